"""Would another quantization of the bundled model read prompts faster? (measured, not kept)

    .venv/bin/pip install gguf   # GGUF reader/writer, for this bench only
    .venv/bin/python -m bench.quant_speed --types Q8_0 Q4_0 --tokens 366

Reading the prompt is most of an answer's time on 2 cores. The bundled file is Q4_K_M;
llama.cpp reads some formats faster on some CPUs (Q4_0 has repacked AVX2 kernels). This
writes a copy of the model with every Q4_K / Q6_K weight but the token embeddings
re-quantized to each type (``gguf``'s own quantizers, from the Q4_K_M weights: a second
quantization, so any quality change would need the answer bench), then times the reading
of one prompt of ``--tokens`` tokens, three times from an empty cache, with the engine's
settings (2 threads, 1,024-token batches). Prints and writes ``bench/results/
quant-speed.json``; the copies are deleted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REQUANTIZED = ("Q4_K", "Q5_K", "Q6_K", "Q8_0")  # weight types re-quantized in the copy


def requantize(source: Path, target: Path, kind: str) -> None:
    """Write ``target``: ``source`` with its quantized weights (not the token embeddings)
    re-quantized to ``kind``."""
    import gguf
    import numpy as np
    from gguf.quants import dequantize, quantize

    new = gguf.GGMLQuantizationType[kind]
    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, reader.fields["general.architecture"].contents())
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by the writer itself
        sub = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), field.types[0], sub_type=sub)
    for tensor in reader.tensors:
        old = gguf.GGMLQuantizationType(tensor.tensor_type)
        if old.name in REQUANTIZED and old != new and tensor.name != "token_embd.weight":
            data = quantize(dequantize(tensor.data, old).astype(np.float32), new)
            writer.add_tensor(tensor.name, data, raw_dtype=new)
        else:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=old)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def reading_seconds(path: Path, tokens: int, batch: int) -> list[float]:
    """Seconds to read a prompt of ``tokens`` tokens from an empty cache, three times."""
    from bench.judge import probe_model

    llm = probe_model(batch, path)
    text = "La Mission Bassin Minier a participé à plusieurs séminaires d'échanges. " * 60
    prompt = llm.tokenize(text.encode(), add_bos=False)[:tokens]
    out = []
    for _ in range(3):
        started = time.perf_counter()
        llm.reset()
        llm.eval(prompt)
        out.append(round(time.perf_counter() - started, 2))
    llm.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", nargs="+", default=["Q8_0", "Q4_0"])
    parser.add_argument("--tokens", type=int, default=366)
    args = parser.parse_args(argv)
    try:
        import gguf  # noqa: F401
    except ImportError:
        print("this bench needs the gguf package: .venv/bin/pip install gguf", file=sys.stderr)
        return 2

    from bench.common import write_result
    from settings import Settings

    settings = Settings()
    bundled = reading_seconds(settings.llm_path, args.tokens, settings.llm_batch)
    rows = [{"type": "Q4_K_M (bundled)", "seconds": bundled}]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.types:
            copy = Path(tmp) / f"model-{kind}.gguf"
            requantize(settings.llm_path, copy, kind)
            seconds = reading_seconds(copy, args.tokens, settings.llm_batch)
            rows.append({"type": kind, "seconds": seconds, "bytes": copy.stat().st_size})
            copy.unlink()
    for row in rows:
        median = statistics.median(row["seconds"])
        row["ms_per_token"] = round(1000 * median / args.tokens, 1)
        print(f"{row['type']:18} {median:6.2f} s for {args.tokens} tokens "
              f"({row['ms_per_token']} ms a token)")  # fmt: skip
    write_result("quant-speed", {"tokens": args.tokens, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PowerPoint (.pptx) through python-pptx: one page per slide, the slide title as heading."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.errors import DocumentError
from ingest.raw import LoadOptions, RawDocument, heading


def slide_text(blocks: list[str]) -> str:
    """A slide's text: its first ``# title`` as heading, then every other block, one a line.

    The body is one block with a line per item, so that short bullet points are never
    taken for headings by the chunker.
    """
    title = next((b for b in blocks if b.startswith("# ")), None)
    body = [b.removeprefix("# ") for b in blocks if b is not title]
    return "\n\n".join(([title] if title else []) + (["\n".join(body)] if body else []))


def _shape_blocks(shapes, title_id: int | None) -> Iterator[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes, title_id)
        elif shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    yield " | ".join(cells)
        elif shape.has_text_frame:
            if shape.shape_id == title_id:
                if text := " ".join(shape.text_frame.text.split()):
                    yield heading(1, text)
                continue
            for paragraph in shape.text_frame.paragraphs:
                if text := " ".join(paragraph.text.split()):
                    yield text


def load_pptx(path: Path, options: LoadOptions) -> RawDocument:
    """Text frames, tables and groups of each slide in order; notes are not slide text."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        presentation = Presentation(str(path))
    except PackageNotFoundError as exc:
        raise DocumentError("corrupt or unreadable PowerPoint file (not a .pptx archive)") from exc
    except Exception as exc:  # python-pptx surfaces zip, XML and key errors
        raise DocumentError(
            f"corrupt or unreadable PowerPoint file ({type(exc).__name__}: {exc})"
        ) from exc
    slides = []
    for slide in presentation.slides:
        title = slide.shapes.title
        title_id = title.shape_id if title is not None else None
        blocks = list(_shape_blocks(slide.shapes, title_id))
        # the title placeholder first, whatever its place in the drawing order
        blocks.sort(key=lambda b: not b.startswith("# "))
        slides.append(slide_text(blocks))
    title = presentation.core_properties.title or None
    return RawDocument(pages=slides, title=title, paginated=True)

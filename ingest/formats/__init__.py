"""One module per family of file formats; each loader turns a file into a RawDocument."""

"""The submission dossier: the PDF a body can file, frozen with the submission.

- `canonical`: the fingerprint of the submitted title, summary and text (docs/dossier.md);
- `facts`: everything a dossier says, as plain data (recorded with the submission);
- `render`: the PDF from the facts alone (ReportLab, the embedded DejaVu Sans font);
- `store`: recorded in the submission's transaction, rendered after commit, stored once;
- `bundle`: one PDF of every dossier submitted to an occasion, with a table of contents.
"""

"""The submission dossier: the PDF a body can file, frozen with the submission."""

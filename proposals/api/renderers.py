"""The API's CSV renderer: ?format=csv or Accept: text/csv (the proposal list streams itself)."""

from __future__ import annotations

import csv
from typing import Any

from rest_framework.renderers import BaseRenderer

from proposals.exports import EchoWriter, csv_cell


class CSVRenderer(BaseRenderer):
    """Chosen by ?format=csv or Accept: text/csv; the list itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        rows = data if isinstance(data, list) else [data]
        lines = EchoWriter()
        writer = csv.writer(lines)
        out: list[str] = []
        columns = list(rows[0]) if rows and isinstance(rows[0], dict) else []
        out.append(writer.writerow(columns))
        for row in rows:
            if isinstance(row, dict):
                out.append(writer.writerow([csv_cell(row.get(c)) for c in columns]))
        return "".join(out).encode(self.charset)

"""Run one benchmark phase in its own process: `python -m bench.phase NAME CONFIG.json OUT.json`.

Each phase gets a fresh Django set up on the database named in its configuration, so that
phases on different databases (and their caches, connections and memory) stay apart.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

PHASES = {
    "generate": "bench.generate_phase",
    "pages": "bench.pages",
    "transitions": "bench.transitions",
    "scan": "bench.scan",
    "mail": "bench.mail",
    "load": "bench.load",
    "markdown": "bench.markdown",
    "capabilities": "bench.capabilities",
    "fanout": "bench.fanout",
    "memory": "bench.memory",
}


def main(argv: list[str]) -> int:
    name, config_path, out_path = argv
    config: dict[str, Any] = json.loads(Path(config_path).read_text())
    from bench.generate import django_setup

    django_setup(config["database_url"])
    module = importlib.import_module(PHASES[name])
    try:
        result = module.run(config)
    except Exception as error:  # the report says which phase failed and why
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    Path(out_path).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

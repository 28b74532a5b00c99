"""Where stored files (attachments) live: the local filesystem under var/ by default, or any
S3-compatible store (django-storages) when `STORAGE_S3_BUCKET` is set. Either way no file has
a public address: downloads go through the views that check who may read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.env import Env


def file_storage(env: Env, var_dir: Path) -> dict[str, Any]:
    """The `default` entry of STORAGES, read from the environment."""
    bucket = env.str("STORAGE_S3_BUCKET", default="")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": env.str("FILES_ROOT", default=str(var_dir / "files")),
                "directory_permissions_mode": 0o750,
                "file_permissions_mode": 0o640,
            },
        }
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": env.str("STORAGE_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("STORAGE_S3_REGION", default="") or None,
        "access_key": env.str("STORAGE_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("STORAGE_S3_SECRET_ACCESS_KEY", default="") or None,
        "location": env.str("STORAGE_S3_PREFIX", default=""),
        "addressing_style": env.str("STORAGE_S3_ADDRESSING_STYLE", default="") or None,
        # Private objects, never overwritten; the views stream them, no signed link leaves.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}

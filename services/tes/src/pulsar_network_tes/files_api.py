"""Galaxy's job files API, for the tasks' Pulsar jobs: Pulsar downloads a task's inputs and uploads its outputs here.

    GET|HEAD /api/jobs/{task_id}/files?job_key=KEY&path=PATH     an input
    POST     /api/jobs/{task_id}/files?job_key=KEY&path=PATH     an output (multipart form, field "file")

KEY is an HMAC of the task id with a secret that never leaves the TES host (job_key()); Pulsar gets it inside the
files URL of the task's setup message, which only the endpoint's vhost carries. PATH must lie inside the task's job
directory. Uploads are spooled to disk, never held in memory whole.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from typing import Callable

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response


def job_key(secret: bytes, task_id: str) -> str:
    return hmac.new(secret, task_id.encode(), hashlib.sha256).hexdigest()


def router(secret: bytes, job_dir: Callable[[str], str]) -> APIRouter:
    api = APIRouter()

    def resolve(task_id: str, key: str, path: str) -> str | Response:
        if not hmac.compare_digest(job_key(secret, task_id), key):
            return JSONResponse({"message": "job_key: wrong key for this job"}, status_code=403)
        root = os.path.realpath(job_dir(task_id))
        requested = os.path.realpath(path)
        if not requested.startswith(root + os.sep):
            return JSONResponse({"message": "path: outside the job's directory"}, status_code=403)
        return requested

    @api.api_route("/api/jobs/{task_id}/files", methods=["GET", "HEAD"])
    def download(task_id: str, job_key: str = "", path: str = "") -> Response:  # noqa: A002
        found = resolve(task_id, job_key, path)
        if isinstance(found, Response):
            return found
        if not os.path.isfile(found):
            return JSONResponse({"message": "path: no such file"}, status_code=404)
        return FileResponse(found, media_type="application/octet-stream")

    @api.post("/api/jobs/{task_id}/files")
    async def upload(request: Request, task_id: str, job_key: str = "", path: str = "") -> Response:
        found = resolve(task_id, job_key, path)
        if isinstance(found, Response):
            return found
        form = await request.form()
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str):
            return JSONResponse({"message": "file: expected a multipart form with a 'file' field"}, status_code=400)
        os.makedirs(os.path.dirname(found), exist_ok=True)
        partial = found + ".part"
        with open(partial, "wb") as out:
            shutil.copyfileobj(upload_file.file, out, 1 << 20)
        os.replace(partial, found)
        await form.close()
        return JSONResponse({})

    return api

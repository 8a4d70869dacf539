"""Fetch a dataset given as an http(s) URL once, into the workflow's results.

WIMHF publishes its seven processed datasets as JSONL files on the Hugging Face hub
(``https://huggingface.co/datasets/rmovva/wimhf-data/resolve/main/data/<name>.json``); a
``hf:`` id cannot name a single file, so such sources are plain URLs. The download is its
own rule (``fetch_source``): planning (``snakemake -n``) never touches the network, and
editing a split setting re-runs ``ingest`` without downloading again.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from pathlib import PurePosixPath
from urllib.parse import urlparse

from tqdm.auto import tqdm

from prefscope.errors import InputError
from prefscope.io import atomic_path

log = logging.getLogger("prefscope.data")

OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
HUB_HOSTS = ("huggingface.co", "hf.co")


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def url_file_name(url: str) -> str:
    """The file name a URL's path ends in (its extension tells ingest the format)."""
    name = PurePosixPath(urlparse(url).path).name
    if not name or "." not in name:
        raise InputError(
            "a URL source must end in a file name with an extension (.parquet, .jsonl, "
            ".json, .csv, .tsv)",
            file=url,
        )
    return name


def download(url: str, dest: str | os.PathLike[str], *, timeout: float = 60.0) -> None:
    """Stream ``url`` to ``dest`` atomically (a failed download leaves no file)."""
    host = urlparse(url).hostname or ""
    on_hub = host in HUB_HOSTS or host.endswith(tuple("." + h for h in HUB_HOSTS))
    offline = [v for v in OFFLINE_VARS if os.environ.get(v) == "1"]
    if on_hub and offline:
        raise InputError(
            f"downloading a URL source needs the network, but {', '.join(offline)} is set; "
            "download the file yourself and point `source` at it",
            file=url,
        )
    log.info("downloading %s", url)
    request = urllib.request.Request(url, headers={"User-Agent": "prefscope"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, atomic_path(dest) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(tmp, "wb") as fh, tqdm(total=total, unit="B", unit_scale=True) as bar:
                while block := response.read(1 << 20):
                    fh.write(block)
                    bar.update(len(block))
    except OSError as err:  # URLError, HTTPError and timeouts are all OSErrors
        raise InputError(f"download failed: {err}", file=url) from None
    log.info("saved %s (%d bytes)", dest, os.path.getsize(dest))

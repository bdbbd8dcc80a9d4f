"""Which release of the code this process serves: a digest of the files it runs.

The ETag and the page cache's key are made from the data version (portal.caching);
they must change with the code as well. After a deploy (new code, then `kill -HUP`
of gunicorn, docs/deploy.md) a page rendered by the old templates would otherwise
be served from the shared cache, and an old ETag answered with 304, until the next
import — up to PORTAL_PAGE_CACHE_SECONDS — with links to static files the new
release may no longer have.

A digest of the files rather than a version number or a commit someone has to set:
nothing to forget at a deploy, and a deploy without git (a copied folder, a
package) works the same. It is computed once per process, when first asked, from
the Python code, templates, compiled catalogues and data files of the apps, the
collected static files' manifest (the hashed names pages link to) and the
dependency lock. /readyz reports it, so a deploy can be checked server by server.
"""

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings

# What a page's bytes depend on, besides the data. Tests and benchmarks are not
# served; the articles' Markdown reaches pages through the database (sync_articles
# bumps the data version).
_FOLDERS = ("portal", "agencies", "articles", "templates", "locale")
_SUFFIXES = {".py", ".html", ".txt", ".mo", ".yaml", ".json", ".js"}
_FILES = ("requirements.lock",)


@cache
def current() -> str:
    """Twelve hex digits naming the code this process runs."""
    base = Path(settings.BASE_DIR)
    paths = [
        path
        for folder in _FOLDERS
        for path in (base / folder).rglob("*")
        if path.suffix in _SUFFIXES and path.is_file() and "__pycache__" not in path.parts
    ]
    paths += [base / name for name in _FILES]
    # The hashed names of the static files the pages link to.
    paths.append(Path(settings.STATIC_ROOT) / "staticfiles.json")
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            # Relative names: the same release digests alike in any folder.
            name = path.relative_to(base) if path.is_relative_to(base) else path.name
            digest.update(str(name).encode() + b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:12]

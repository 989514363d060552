"""Sitemaps (sitemaps.org): ``<urlset>`` lists pages, ``<sitemapindex>`` lists sitemaps."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from sources.fetch import Response

XML_TYPES = ("application/xml", "text/xml", "application/x-gzip", "application/gzip")


@dataclass
class Sitemap:
    """The page URLs and nested sitemap URLs of one sitemap document."""

    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(response: Response) -> Sitemap | None:
    """The sitemap in ``response``, or None when it is not one (an HTML page)."""
    body = response.body
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz
        try:
            body = gzip.decompress(body)
        except OSError:
            return None
    head = body[:512].lstrip()
    if response.content_type not in XML_TYPES and not head.startswith(b"<?xml"):
        return None
    if b"<!DOCTYPE" in body[:2048] or b"<!ENTITY" in body:  # no entity expansion, ever
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        return None
    out = Sitemap()
    target = out.pages if kind == "urlset" else out.sitemaps
    for entry in root:
        loc = next((c.text for c in entry if _local(c.tag) == "loc" and c.text), None)
        if loc and loc.strip() not in target:
            target.append(loc.strip())
    return out

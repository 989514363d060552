"""Web sources: pages fetched from sites (sitemaps, crawls) and indexed like corpus files."""

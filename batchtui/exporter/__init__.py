"""``batchtui exporter``: the accounts' jobs, tasks and pools as Prometheus metrics.

Filled in the background by the dashboard's refresh engine (one engine and one client per
account); a scrape only reads the last snapshot, so scrapers cost the account nothing.
"""

"""Organization scans: the GitHub client, frugal clones, the run over every repository."""

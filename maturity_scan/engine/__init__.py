"""Running a scan: sources, the detector registry, the parser pool and workers, analysis,
merging."""

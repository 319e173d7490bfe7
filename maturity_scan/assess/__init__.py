"""Judging a scan: rule packs, the rule graph and its evaluation, results, explanations."""

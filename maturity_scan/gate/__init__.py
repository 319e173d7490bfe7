"""The CI gate: policy (baselines, floors, waivers, policy at the base revision), diffs and
history."""

"""`make bench` / `python -m census_ops.bench`: the census service's benchmarks, run side by
side in one process on this machine against its own DynamoDB Local (never AWS): capacity
per operation, handler overhead, cold start, worklist scaling, and the cost they imply.
Figures are ratios and unit counts measured in one run, never timed assertions in tests."""

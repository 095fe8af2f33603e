"""``statekit compare``: the three providers side by side, read from real artifacts.

Resources come from the synthesized ``cdktf.out/`` stacks, capabilities from the
conformance suites' reports, performance from the benchmark reports, cost from
``pricing.csv`` (data, not code) applied to a workload profile. Nothing here is
imported by the runtime adapter: ``statekit.open_*`` never pays for it.
"""

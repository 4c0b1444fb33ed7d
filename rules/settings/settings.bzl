"""Build settings of rules_thinlto."""

BACKEND_INPUTS = ["packed", "all_bitcode", "bundle"]

def _backend_inputs_impl(ctx):
    value = ctx.build_setting_value
    if value not in BACKEND_INPUTS:
        fail("{}: '{}' is not one of {}".format(ctx.label, value, ", ".join(BACKEND_INPUTS)))
    return [BackendInputsInfo(value = value)]

BackendInputsInfo = provider(
    doc = "How backend actions declare the bitcode they import.",
    fields = {"value": "string: one of " + ", ".join(BACKEND_INPUTS)},
)

backend_inputs_flag = rule(
    implementation = _backend_inputs_impl,
    build_setting = config.string(flag = True),
    doc = """How each ThinLTO backend action declares the bitcode it imports.

Starlark cannot discover inputs, so every backend's inputs are fixed before the thin link runs:

- `all_bitcode`: each backend declares every bitcode module of the link, and the helper reports
  all but its imports in `unused_inputs_list`, so only a change to a module it imports re-runs
  it. Backends run outside Bazel's sandbox (which would stage all N modules for each of N
  backends); the helper runs clang in a private directory holding only the module and its
  imports. Fastest at N=200; at N=1,000 its N^2 declared inputs make it slower than Bazel's
  native thin_lto (BENCHMARKS.md). A remote input root would hold all bitcode.
- `bundle`: the thin link hard-links (or copies) each module's imports into a per-module tree
  artifact, and each backend declares only that: exact inputs, for remote execution, where the
  CAS stores each blob once.""",
)

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

- `packed` (default): the thin link writes each module's imports into one file, its pack
  (`<object>.pack`), and a backend declares its module, its index, its imports list and its
  pack: exact inputs (it re-runs only when a module it imports changes; a remote input root
  holds only what it reads) in four declared files, whatever the program's size. Where the
  exec root already holds every packed module byte for byte (a local unsandboxed action)
  clang reads them there; elsewhere the helper unpacks the pack into the private directory
  clang runs in.
- `all_bitcode`: each backend declares every bitcode module of the link, and the helper
  reports all but its imports in `unused_inputs_list`; clang runs in the exec root. N^2
  declared inputs, which Bazel re-checks on every rebuild; a remote input root would hold
  all bitcode.
- `bundle`: the thin link hard-links (or copies) each module's imports into a per-module
  tree artifact, and each backend declares only that: exact inputs, as many files as
  imports. Remotely, the CAS stores each module once rather than once per pack.

Measurements of all three against Bazel's native thin_lto: BENCHMARKS.md.""",
)

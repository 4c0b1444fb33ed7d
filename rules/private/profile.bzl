"""The optimization profile of a build, for the compiles Bazel does not run.

Bazel's C++ compiles read `--fdo_profile` themselves (the toolchain's fdo_optimize or autofdo
feature). Rust compiles and ThinLTO backends get it from `//rules/settings:fdo_profile`, set
to the same target (Bazel 4.2.3 does not show `--fdo_profile` to Starlark rules), declared as
an input, so that a changed profile re-runs exactly the actions that read it. As Bazel does,
the file's extension names its kind: `.profdata`, an indexed instrumentation profile
(llvm-profdata merge), or `.afdo`, a sample profile (AutoFDO).
"""

_ProfileFileInfo = provider(doc = "The profile of an fdo_profile target.", fields = ["file"])

def _profile_file_impl(_target, ctx):
    # fdo_profile provides its file only through a provider Starlark cannot read on every
    # Bazel version; its `profile` attribute names it everywhere.
    if ctx.rule.kind != "fdo_profile":
        return []
    return [_ProfileFileInfo(file = getattr(ctx.rule.file, "profile", None))]

_profile_file = aspect(implementation = _profile_file_impl)

PROFILE_ATTRS = {
    "_fdo_profile": attr.label(default = Label("//rules/settings:fdo_profile"), aspects = [_profile_file]),
}

def fdo_profile(ctx):
    """The build's profile, or None without --fdo_profile.

    Args:
      ctx: a rule context with PROFILE_ATTRS.

    Returns:
      struct(file, rustc_flags, backend_flags) or None.
    """
    target = getattr(ctx.attr, "_fdo_profile", None)
    if not target:
        return None
    if _ProfileFileInfo in target:
        profile = target[_ProfileFileInfo].file
        if not profile:
            fail("fdo_profile {}: rules_thinlto needs the profile as a file in the workspace (`profile`), not `absolute_path_profile`".format(target.label))
    else:
        # The setting's default (no profile), or a profile file named directly.
        files = target.files.to_list()
        if not files:
            return None
        if len(files) != 1:
            fail("//rules/settings:fdo_profile={}: names {} files; it takes an fdo_profile target or one profile file".format(target.label, len(files)))
        profile = files[0]
    if profile.extension == "profdata":
        # Instrumentation PGO: annotated at compile time; the backends read it too, as
        # Bazel's native ThinLTO backends do (context-sensitive profiles need it there).
        return struct(file = profile, rustc_flags = ["-Cprofile-use=" + profile.path], backend_flags = ["-fprofile-use=" + profile.path])
    if profile.extension == "afdo":
        # Sample PGO: rustc's -Zprofile-sample-use is nightly-only, so Rust modules meet the
        # profile in their backends, where LLVM's sample loader runs again after importing.
        return struct(file = profile, rustc_flags = [], backend_flags = ["-fprofile-sample-use=" + profile.path])
    fail("//rules/settings:fdo_profile={}: {} is neither an indexed instrumentation profile (.profdata; merge .profraw files with llvm-profdata merge) nor a sample profile (.afdo)".format(target.label, profile.basename))

"""An execution platform that runs every action remotely, for tests/buck2/test_remote.py.

The prelude's `prelude//platforms:default` has remote execution off. This one has it on and
local execution off, so that an action that cannot run remotely fails instead of running on
the host: the test proves every action's declared inputs complete. Its remote execution
properties are empty, as the test's Buildbarn worker's platform is.
"""

def _remote_platform_impl(ctx: AnalysisContext) -> list[Provider]:
    constraints = dict()
    constraints.update(ctx.attrs.cpu_configuration[ConfigurationInfo].constraints)
    constraints.update(ctx.attrs.os_configuration[ConfigurationInfo].constraints)
    platform = ExecutionPlatformInfo(
        label = ctx.label.raw_target(),
        configuration = ConfigurationInfo(constraints = constraints, values = {}),
        executor_config = CommandExecutorConfig(
            local_enabled = False,
            remote_enabled = True,
            use_limited_hybrid = False,
            remote_execution_properties = {},
            remote_execution_use_case = "buck2-default",
            remote_output_paths = "output_paths",
        ),
    )
    return [DefaultInfo(), platform, ExecutionPlatformRegistrationInfo(platforms = [platform])]

remote_platform = rule(
    impl = _remote_platform_impl,
    attrs = {
        "cpu_configuration": attrs.dep(providers = [ConfigurationInfo], default = "prelude//cpu:x86_64"),
        "os_configuration": attrs.dep(providers = [ConfigurationInfo], default = "prelude//os:linux"),
    },
)

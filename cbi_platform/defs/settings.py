"""The platform's settings as the Dagster definitions see them: read from the environment once,
when the code location loads (lib.settings.Settings documents every variable)."""

from cbi_platform.lib.settings import Settings

SETTINGS = Settings.from_env()

"""Settings: validated once, with errors that name the key; secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEMO_CONFIG, find_config, load_settings
from errors import ConfigError

from conftest import BASE_CONFIG, write_config


def test_paths_are_resolved_against_the_config_folder(tmp_path):
    settings = load_settings(write_config(tmp_path), environ={})
    assert settings.database_path == tmp_path / "state" / "reviewpulse.duckdb"
    assert settings.inbox_dir == tmp_path / "state" / "inbox"
    assert settings.site_dir == tmp_path / "site"
    assert settings.source("google").path == tmp_path / "exports" / "google"
    assert settings.source("platform").platform_name == "ratemd"
    assert str(settings.zone) == "America/Chicago"


def test_secrets_come_from_the_environment_and_are_not_printed(tmp_path):
    env = {"REVIEWPULSE_GBP_TOKEN": "ya29.secret-token", "REVIEWPULSE_SMTP_PASSWORD": "hunter2"}
    settings = load_settings(write_config(tmp_path), environ=env)
    assert settings.gbp_token.get_secret_value() == "ya29.secret-token"
    assert settings.smtp_password.get_secret_value() == "hunter2"
    assert "ya29" not in repr(settings) and "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (BASE_CONFIG.replace('timezone = "America/Chicago"', 'timezone = "Mars/Olympus"'),
         "timezone: unknown time zone 'Mars/Olympus'"),
        (BASE_CONFIG.replace('practice = "Test Family Practice"\n', ""), "practice: Field required"),
        (BASE_CONFIG.replace('type = "csv"', 'type = "fax"'), "sources[1].type: Input should be"),
        (BASE_CONFIG.replace('id = "main"', 'id = "Main Street!"'), "locations[0].id: String should match pattern"),
        (BASE_CONFIG.replace('text = "Comment"', ""), "sources[1].columns.text: Field required"),
        (BASE_CONFIG.replace('path = "exports/google"', ""), "sources[0]: needs either path or url"),
        (BASE_CONFIG + '\n[[sources]]\nname = "w"\ntype = "widget"\nurl = "ftp://example.org/x"\n',
         "sources[2]: url must be http(s), got 'ftp://example.org/x'"),
        (BASE_CONFIG + '\n[[sources]]\nname = "w"\ntype = "widget"\npath = "x"\nlocation = "moon"\n',
         "settings: source 'w': location 'moon' is not one of ['main', 'east']"),
        (BASE_CONFIG.replace('data_dir = "state"', 'data_dir = "state"\ncolour = "blue"'),
         "colour: Extra inputs are not permitted"),
        ('gbp_token = "abc"\n' + BASE_CONFIG, "gbp_token: secrets are read only from the environment"),
        ('config_path = "/x"\n' + BASE_CONFIG, "config_path: set by ReviewPulse to this file's path"),
        (BASE_CONFIG.replace('path = "exports/google"', 'path = "exports/google"\nevery_minutes = 5\ncron = "0 * * * *"'),
         "sources[0]: give either every_minutes or cron, not both"),
        (BASE_CONFIG.replace('practice = "Test', 'practice = Test'), "invalid TOML"),
    ],
)
def test_invalid_settings_name_the_key_and_the_problem(tmp_path, toml, message):
    path = write_config(tmp_path, base=toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: settings file not found$"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_config_lookup_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config(None, {}) == DEMO_CONFIG
    write_config(tmp_path)
    assert find_config(None, {}) == Path("reviewpulse.toml")
    assert find_config(None, {"REVIEWPULSE_CONFIG": "/etc/rp.toml"}) == Path("/etc/rp.toml")
    assert find_config(Path("x.toml"), {"REVIEWPULSE_CONFIG": "/etc/rp.toml"}) == Path("x.toml")

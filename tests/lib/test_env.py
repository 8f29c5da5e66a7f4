from __future__ import annotations

import pytest

from leadgate.lib.env import ConfigError, env_bool, env_int, env_list


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("", False)]
)
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG") is expected


def test_env_bool_refuses_typos(monkeypatch):
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ConfigError, match="X_FLAG='ture' is not a boolean"):
        env_bool("X_FLAG")


def test_env_int(monkeypatch):
    monkeypatch.delenv("X_NUM", raising=False)
    assert env_int("X_NUM", 7) == 7
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 7) == 12
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(ConfigError, match="not a whole number"):
        env_int("X_NUM", 7)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError, match="minimum is 1"):
        env_int("X_NUM", 7, minimum=1)


def test_env_list(monkeypatch):
    monkeypatch.setenv("X_LIST", " a, b ,,c ")
    assert env_list("X_LIST") == ["a", "b", "c"]

"""The settings ``ProxmoxClient`` reads, as data (no imports: the generator documents them)."""

from __future__ import annotations

__all__ = ["PROXMOX_SETTINGS", "configuration_section"]

PROXMOX_SETTINGS: tuple[tuple[str, str, str], ...] = (
    (
        "host",
        "none",
        "Host name or address of a PVE node; the base URL becomes `https://HOST:PORT/api2/json`.",
    ),
    ("port", "8006", "Port of the PVE API."),
    ("user", "none", "`USER@REALM` (`root@pam`): the token's owner, or who logs in."),
    ("token_id", "none", "API token id (the part after `!`); with token_secret: token auth."),
    ("token_secret", "none", "API token secret (a UUID). Secret."),
    ("password", "none", "Password for a ticket login (`POST /access/ticket`). Secret."),
    ("otp", "none", "TOTP code for accounts with a second factor. Secret."),
    (
        "fingerprint",
        "none",
        "SHA-256 of the node's certificate (`AB:CD:…`), pinned instead of CA verification.",
    ),
    ("verify", "true", "Verify the node's certificate against the system CAs or ca_file."),
    ("ca_file", "system CAs", "PEM CA bundle (the cluster's `pve-root-ca.pem`)."),
    ("renew_after_seconds", "3600", "Renew a ticket once it is this old (tickets live 7200 s)."),
)
"""``(setting, default, meaning)``: what ``ProxmoxClient`` reads from ``<PREFIX>_<SETTING>``."""


def configuration_section(prefix: str) -> str:
    """The Proxmox part of CONFIGURATION.md."""
    rows = "\n".join(
        f"| `{name}` | `{prefix}_{name.upper()}` | {default} | {meaning} |"
        for name, default, meaning in PROXMOX_SETTINGS
    )
    return (
        "\n## Proxmox VE\n\n"
        "Token auth when token_id and token_secret are set, else a ticket login with user and "
        "password (renewed before it expires, CSRF token on writes only, one re-login on a "
        "401). Writes (POST, PUT, DELETE) are never retried once sent.\n\n"
        "| argument | variable | default | meaning |\n|---|---|---|---|\n"
        f"{rows}\n"
    )

"""Who is visiting, in shared mode: the signed-in user, else a random owner token kept in a cookie.

Streamlit can read the browser's cookies (`st.context.cookies`, read-only, sent with the page's first
request) but has no API to write one, so a tiny built-in `st.components.v2` component (inline JS,
no package) writes the token as a first-party cookie when the browser has none. The token is never
in the URL, so sharing a link does not share ownership. A missing or forged token is simply a new
owner with nothing to manage.
"""

from __future__ import annotations

import functools
import hashlib

import streamlit as st

from dlapp import owners, quotas, sharing
from dlapp.config import RunConfig
from dlapp.store import ACTIVE, RunStore

COOKIE = "dlapp_owner"
OWNER_KEY = "dlapp_owner"  # session state: this session's owner id
ADMIN_KEY = "dlapp_admin"  # session state: True once the admin password was given in this session
YEAR = 365 * 24 * 3600

# Keeps the token: adopts a valid cookie already in the browser (another tab may have made it), else writes ours.
_KEEPER_JS = f"""
export default function(component) {{
    const {{ data, setStateValue }} = component;
    const found = document.cookie.split('; ').find((c) => c.startsWith('{COOKIE}='));
    const kept = found ? found.slice({len(COOKIE) + 1}) : null;
    if (kept && /^{owners.TOKEN_PREFIX}[0-9a-f]{{{2 * owners.TOKEN_BYTES}}}$/.test(kept)) {{
        if (kept !== data) setStateValue('token', kept);
        return;
    }}
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = '{COOKIE}=' + data + '; max-age={YEAR}; path=/; SameSite=Strict' + secure;
}}
"""


@functools.cache
def shared() -> bool:
    """Shared mode, decided once per server process."""
    return sharing.is_shared()


@functools.cache
def _keeper():
    return st.components.v2.component("dlapp_owner_keeper", js=_KEEPER_JS)


@functools.cache
def admin_gate() -> sharing.AdminGate:
    """One gate per server process, so opening a new tab does not reset the count of wrong tries."""
    return sharing.AdminGate(sharing.admin_password())


def current_owner() -> str | None:
    """This visitor's owner id in shared mode (None in one-person mode, where everyone owns everything)."""
    if not shared():
        return None
    user = _signed_in_user()
    if user is not None:
        return "user:" + user
    state = st.session_state
    if OWNER_KEY not in state:
        cookie = st.context.cookies.get(COOKIE)
        state[OWNER_KEY] = cookie if owners.is_token(cookie) else owners.new_token()
    return state[OWNER_KEY]


def keep_owner_token() -> None:
    """Every page: make sure the browser keeps this session's token (shared mode, no sign-in)."""
    owner = current_owner()
    if owner is None or not owners.is_token(owner):
        return
    result = _keeper()(data=owner, key="dlapp_owner_keeper", on_token_change=lambda: None)
    token = getattr(result, "token", None)
    if owners.is_token(token):
        st.session_state[OWNER_KEY] = token


def _signed_in_user() -> str | None:
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("sub"))
    except Exception:  # no [auth] section: st.login is not configured here
        return None
    return None


def is_admin() -> bool:
    return bool(st.session_state.get(ADMIN_KEY))


def run_refusal(store: RunStore, run_id: int) -> str | None:
    """None when this visitor may stop, rename, delete or tag run `run_id`; else why not."""
    if not shared():
        return None
    return owners.refusal(current_owner(), store.owners.owner("run", run_id), shared=True, admin=is_admin())


def start_refusal(store: RunStore, config: RunConfig) -> str | None:
    """None when this visitor may queue a run of `config` now; else the quota sentence."""
    return experiment_refusal(store, [config])


def experiment_refusal(store: RunStore, configs: list[RunConfig]) -> str | None:
    """None when this visitor may queue these runs now (each counts against the quota); else why not."""
    if not shared():
        return None
    settings = sharing.quota_settings()
    every_run = store.runs()
    mine = store.owners.owned("run", current_owner())
    active = sum(1 for run in every_run if run.id in mine and run.status in ACTIVE)
    if refusal := quotas.jobs_refusal(active, settings, adding=len(configs)):
        return refusal
    for config in configs:
        speed = quotas.measured_speed(config.model.arch, every_run)
        if refusal := quotas.run_length_refusal(config, speed, settings):
            return refusal
    return None


def item_refusal(store: RunStore, kind: str, item_id: int) -> str | None:
    """None when this visitor may stop or change this experiment (or drawing); else why not."""
    if not shared():
        return None
    return owners.refusal(current_owner(), store.owners.owner(kind, item_id), shared=True, admin=is_admin())


@functools.cache
def _upload_log() -> quotas.UploadLog:
    return quotas.UploadLog()


def upload_refusal(content: bytes) -> str | None:
    """None when this visitor may upload this file now (and it is counted); else why not."""
    if not shared():
        return None
    settings = sharing.quota_settings()
    digest = hashlib.sha256(content).hexdigest()
    log = _upload_log()
    return quotas.upload_size_refusal(len(content), settings) or log.refusal(current_owner(), settings, digest)


def claim_run(store: RunStore, run_id: int) -> None:
    """Make this visitor the owner of a run made outside a training job (an imported model)."""
    if shared():
        store.owners.set("run", run_id, current_owner())


def claim_drawing(store: RunStore, drawing_id: int) -> None:
    """A saved drawing belongs to this visitor's personal test set (shared mode)."""
    if shared():
        store.owners.set("drawing", drawing_id, current_owner())


def my_drawings(store: RunStore):
    """This visitor's drawings in shared mode (everyone's otherwise): images (n, 28, 28), labels (n,)."""
    for _ in range(3):  # two reads; another visitor's save or delete in between shows as a length mismatch
        images, labels = store.drawings()
        if not shared():
            return images, labels
        ids = store.drawing_ids()
        if len(ids) == len(labels):
            return owners.keep_owned(images, labels, ids, store.owners.owned("drawing", current_owner()))
    return images[:0], labels[:0]


def render_admin_unlock() -> None:
    """The teacher's password box (shared mode only), in the sidebar."""
    if not shared() or is_admin() or sharing.admin_password() is None:
        return
    with st.sidebar.form("dlapp_admin", border=False):
        attempt = st.text_input("Teacher password", type="password")
        if st.form_submit_button("Unlock every run"):
            unlocked, sentence = admin_gate().check(attempt)
            st.session_state[ADMIN_KEY] = unlocked
            (st.success if unlocked else st.error)(sentence)

//! Generates the Tauri context and the permissions of the app's own commands: each command in
//! `COMMANDS` gets an `allow-…` permission, and only those granted in `capabilities/main.json`
//! can be invoked from the web view.

/// Every IPC command of `src/ipc.rs`; a command missing here cannot be invoked at all.
const COMMANDS: &[&str] = &[
    "app_state",
    "vault_create",
    "vault_unlock",
    "vault_lock",
    "touch",
    "secret_list",
    "secret_view",
    "secret_reveal",
    "secret_copy",
    "secret_create",
    "secret_update",
    "secret_delete",
    "folder_list",
    "folder_create",
    "audit_query",
    "audit_verify",
    "audit_export",
    "password_change",
    "settings_save",
    "password_generate",
    "password_copy",
    "security_report",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step succeeds");
}

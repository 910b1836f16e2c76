//! The IPC surface: one Tauri command per [`Desktop`] operation, each one line. Nothing here
//! decides anything; the list of commands is also in `build.rs` (which generates their
//! permissions) and `capabilities/main.json` (which grants them to the main window).
//!
//! Sensitive values cross IPC in one direction only on `secret_reveal`; `secret_copy` writes
//! the clipboard from Rust. Passwords and new values cross towards Rust when the user types them.
//! Every command runs off the main thread (`async`), so a KDF never freezes the window.

use secretctl_core::audit::ExportFormat;
use secretctl_core::security::Report;
use secretctl_desktop::audit_view::{AuditPage, AuditQuery};
use secretctl_desktop::desktop::{
    AppState, CopyReceipt, ExportReceipt, GenerateRequest, Generated, ListQuery, LockReason,
    Revealed, VerifyView,
};
use secretctl_desktop::edit::{CreateRequest, UpdateRequest};
use secretctl_desktop::settings::Settings;
use secretctl_desktop::views::{Detail, FolderItem, ListItem};
use secretctl_desktop::{Desktop, IpcError};
use tauri::State;

type R<T> = Result<T, IpcError>;

#[tauri::command(async)]
pub fn app_state(d: State<'_, Desktop>) -> AppState {
    d.app_state()
}

#[tauri::command(async)]
pub fn vault_create(d: State<'_, Desktop>, password: String, confirm: String) -> R<()> {
    d.create_vault(password, confirm)
}

#[tauri::command(async)]
pub fn vault_unlock(d: State<'_, Desktop>, password: String) -> R<()> {
    d.unlock(password)
}

#[tauri::command(async)]
pub fn vault_lock(d: State<'_, Desktop>) {
    d.lock(LockReason::User)
}

#[tauri::command(async)]
pub fn touch(d: State<'_, Desktop>) {
    d.touch()
}

#[tauri::command(async)]
pub fn secret_list(d: State<'_, Desktop>, query: ListQuery) -> R<Vec<ListItem>> {
    d.list(query)
}

#[tauri::command(async)]
pub fn secret_view(d: State<'_, Desktop>, name: String) -> R<Detail> {
    d.view(&name)
}

#[tauri::command(async)]
pub fn secret_reveal(d: State<'_, Desktop>, name: String, field: String) -> R<Revealed> {
    d.reveal(&name, &field)
}

#[tauri::command(async)]
pub fn secret_copy(d: State<'_, Desktop>, name: String, field: String) -> R<CopyReceipt> {
    d.copy(&name, &field)
}

#[tauri::command(async)]
pub fn secret_create(d: State<'_, Desktop>, request: CreateRequest) -> R<()> {
    d.create(request)
}

#[tauri::command(async)]
pub fn secret_update(d: State<'_, Desktop>, request: UpdateRequest) -> R<()> {
    d.update(request)
}

#[tauri::command(async)]
pub fn secret_delete(d: State<'_, Desktop>, name: String) -> R<()> {
    d.delete(&name)
}

#[tauri::command(async)]
pub fn folder_list(d: State<'_, Desktop>) -> R<Vec<FolderItem>> {
    d.folders()
}

#[tauri::command(async)]
pub fn folder_create(d: State<'_, Desktop>, path: String) -> R<()> {
    d.folder_create(&path)
}

#[tauri::command(async)]
pub fn audit_query(d: State<'_, Desktop>, query: AuditQuery) -> R<AuditPage> {
    d.audit_query(query)
}

#[tauri::command(async)]
pub fn audit_verify(d: State<'_, Desktop>) -> R<VerifyView> {
    d.audit_verify()
}

#[tauri::command(async)]
pub fn audit_export(
    d: State<'_, Desktop>,
    query: AuditQuery,
    format: ExportFormat,
    path: String,
) -> R<ExportReceipt> {
    d.audit_export(query, format, &path)
}

#[tauri::command(async)]
pub fn password_change(
    d: State<'_, Desktop>,
    current: String,
    new: String,
    confirm: String,
) -> R<()> {
    d.change_password(current, new, confirm)
}

#[tauri::command(async)]
pub fn settings_save(d: State<'_, Desktop>, settings: Settings) -> R<AppState> {
    d.save_settings(settings)
}

#[tauri::command(async)]
pub fn password_generate(d: State<'_, Desktop>, request: GenerateRequest) -> R<Generated> {
    d.generate(request)
}

#[tauri::command(async)]
pub fn password_copy(d: State<'_, Desktop>) -> R<CopyReceipt> {
    d.copy_generated()
}

#[tauri::command(async)]
pub fn security_report(d: State<'_, Desktop>) -> R<Report> {
    d.security_report()
}

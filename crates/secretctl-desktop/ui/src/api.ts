// Typed wrappers over the IPC commands of src/ipc.rs. Nothing else in the front end calls
// invoke(), so this file is the whole contract with the Rust side.
import { invoke } from "@tauri-apps/api/core";

export type Theme = "system" | "light" | "dark";
export type Language = "en" | "ja";
export interface Settings {
  theme: Theme;
  language: Language;
  auto_lock_minutes: number;
}
export interface TemplateField {
  name: string;
  sensitive: boolean;
  kind: string;
  hint: string;
  multiline: boolean;
  binding: string | null;
}
export interface Template {
  name: string;
  fields: TemplateField[];
}
export type LockReason = "user" | "idle" | "changed";
export interface AppState {
  vault_dir: string;
  vault_exists: boolean;
  unlocked: boolean;
  lock_reason: LockReason | null;
  settings: Settings;
  auto_lock_secs: number;
  clipboard_clear_secs: number;
  templates: Template[];
  audit_actions: string[];
  version: string;
}
export interface ListItem {
  name: string;
  tags: string[];
  folder: string | null;
  url: string | null;
  expires_at: string | null;
  expired: boolean;
  updated_at: string | null;
  field_count: number;
}
export interface FieldItem {
  name: string;
  sensitive: boolean;
  kind: string | null;
  hint: string | null;
  multiline: boolean;
  value: string | null;
  masked: string;
  length: string;
}
export interface Binding {
  env: string;
  field: string;
}
export interface Detail {
  name: string;
  fields: FieldItem[];
  bindings: Binding[];
  notes: string | null;
  url: string | null;
  tags: string[];
  folder: string | null;
  expires_at: string | null;
  created_at: string | null;
  updated_at: string | null;
}
export interface FormField {
  name: string;
  value: string | null;
  sensitive: boolean;
}
export interface Form {
  fields: FormField[];
  bindings: Binding[];
  notes: string;
  url: string;
  tags: string[];
  expires: string;
  folder: string;
}
export interface FolderItem {
  path: string;
  depth: number;
  secrets: number;
}
export interface AuditQuery {
  action?: string;
  source?: string;
  key?: string;
  from_ms?: number;
  to_ms?: number;
  page: number;
  page_size: number;
}
export interface AuditRow {
  seq: number;
  timestamp_ms: number;
  timestamp: string;
  action: string;
  source: string;
  success: boolean;
  key: string | null;
  key_hash: string | null;
  error: string | null;
  detail: string;
}
export interface AuditPage {
  rows: AuditRow[];
  total: number;
  page: number;
  pages: number;
  page_size: number;
}
export interface Verification {
  ok: boolean;
  records: number;
  first_bad_seq: number | null;
  problem: string | null;
  head_seq: number;
  head_hash: string;
}
export interface GenerateRequest {
  words: boolean;
  length: number;
  lowercase: boolean;
  uppercase: boolean;
  digits: boolean;
  symbols: boolean;
  exclude: string;
  word_count: number;
  separator: string;
}
export interface FieldRef {
  key: string;
  field: string;
}
export interface SecurityReport {
  score: number;
  components: { strength: number; reuse: number; expiry: number };
  counts: { secrets: number; values: number; weak: number; reuse_groups: number; expired: number; expiring: number };
  weak: { key: string; field: string; strength: number; crack_time: string; reason: string }[];
  reused: { members: FieldRef[] }[];
  expired: { key: string; expires_at: string; days_left: number }[];
  expiring: { key: string; expires_at: string; days_left: number }[];
  expiring_within_secs: number;
}
export interface IpcError {
  code: string;
  message: string;
}

export function errorOf(e: unknown): IpcError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as IpcError;
  }
  return { code: "failed", message: String(e) };
}

export const api = {
  appState: () => invoke<AppState>("app_state"),
  createVault: (password: string, confirm: string) =>
    invoke<void>("vault_create", { password, confirm }),
  unlock: (password: string) => invoke<void>("vault_unlock", { password }),
  lock: () => invoke<void>("vault_lock"),
  touch: () => invoke<void>("touch"),
  list: (query: { query: string; tag: string | null; folder: string | null }) =>
    invoke<ListItem[]>("secret_list", { query }),
  view: (name: string) => invoke<Detail>("secret_view", { name }),
  reveal: (name: string, field: string) =>
    invoke<{ value: string }>("secret_reveal", { name, field }),
  copy: (name: string, field: string) =>
    invoke<{ clear_after_secs: number }>("secret_copy", { name, field }),
  create: (request: { name: string; template: string | null; form: Form }) =>
    invoke<void>("secret_create", { request }),
  update: (request: { name: string; before: Form; after: Form }) =>
    invoke<void>("secret_update", { request }),
  remove: (name: string) => invoke<void>("secret_delete", { name }),
  folders: () => invoke<FolderItem[]>("folder_list"),
  folderCreate: (path: string) => invoke<void>("folder_create", { path }),
  auditQuery: (query: AuditQuery) => invoke<AuditPage>("audit_query", { query }),
  auditVerify: () => invoke<Verification>("audit_verify"),
  auditExport: (query: AuditQuery, format: "csv" | "json", path: string) =>
    invoke<{ path: string; count: number }>("audit_export", { query, format, path }),
  changePassword: (current: string, next: string, confirm: string) =>
    invoke<void>("password_change", { current, new: next, confirm }),
  saveSettings: (settings: Settings) => invoke<AppState>("settings_save", { settings }),
  generate: (request: Partial<GenerateRequest>) =>
    invoke<{ password: string; entropy_bits: number }>("password_generate", { request }),
  copyGenerated: () => invoke<{ clear_after_secs: number }>("password_copy"),
  securityReport: () => invoke<SecurityReport>("security_report"),
};

// The secretctl desktop front end: plain TypeScript, no framework. Every vault operation is an
// IPC call (api.ts); this file only renders and handles input. Sensitive values arrive only when
// the user presses Reveal, and are dropped when the view changes.
import "./style.css";
import { listen } from "@tauri-apps/api/event";
import {
  api,
  errorOf,
  type AppState,
  type AuditPage,
  type AuditQuery,
  type Detail,
  type FolderItem,
  type Form,
  type GenerateRequest,
  type SecurityReport,
  type Language,
  type ListItem,
  type LockReason,
  type Settings,
  type Theme,
} from "./api";
import { $, h, replace } from "./dom";
import { setLanguage, t } from "./i18n";

type Route = "secrets" | "generator" | "security" | "audit" | "settings";

interface EditorField {
  name: string;
  value: string;
  sensitive: boolean;
  multiline: boolean;
  hint: string;
  // An existing field whose stored value is kept unless the user types a new one.
  keep: boolean;
}

interface Editor {
  mode: "new" | "edit";
  name: string;
  template: string;
  before: Form | null;
  fields: EditorField[];
  bindings: { env: string; field: string }[];
  notes: string;
  url: string;
  tags: string;
  expires: string;
  folder: string;
  error: string;
}

const state = {
  app: null as AppState | null,
  route: "secrets" as Route,
  list: [] as ListItem[],
  allTags: [] as string[],
  folders: [] as FolderItem[],
  query: "",
  tag: null as string | null,
  folder: null as string | null,
  selected: null as string | null,
  detail: null as Detail | null,
  revealed: new Map<string, string>(),
  editor: null as Editor | null,
  audit: { page: 0, filters: {} as Partial<AuditQuery>, result: null as AuditPage | null },
  gen: {
    request: {
      words: false, length: 24, lowercase: true, uppercase: true, digits: true, symbols: true,
      exclude: "", word_count: 6, separator: "-",
    } as GenerateRequest,
    password: "",
    entropy: 0,
  },
  security: null as SecurityReport | null,
  overlay: null as null | "palette" | "help" | "confirm",
  confirm: null as null | { text: string; run: () => void },
};

const root = document.getElementById("root") as HTMLElement;

// ---------------------------------------------------------------- theme, language, toast

function applyLook(settings: Settings): void {
  setLanguage(settings.language);
  const dark =
    settings.theme === "dark" ||
    (settings.theme === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.documentElement.dataset.themeSetting = settings.theme;
}

let toastTimer: number | undefined;
function toast(text: string, bad = false): void {
  let el = $("#toast");
  if (!el) {
    el = h("div", { id: "toast", role: "status" });
    document.body.appendChild(el);
  }
  el.textContent = text;
  el.className = bad ? "show bad" : "show";
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => el?.classList.remove("show"), 6000);
}

// Errors: a locked vault (idle, or changed on disk) sends the user back to the unlock screen.
async function guard<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch (e) {
    const err = errorOf(e);
    if (err.code === "locked") {
      await refreshApp();
      toast(err.message, true);
    } else {
      toast(err.message, true);
    }
    return undefined;
  }
}

async function refreshApp(): Promise<void> {
  state.app = await api.appState();
  applyLook(state.app.settings);
  render();
}

// ---------------------------------------------------------------- screens

function render(): void {
  const app = state.app;
  if (!app) return;
  if (!app.vault_exists) return renderSetup(app);
  if (!app.unlocked) return renderUnlock(app);
  renderMain();
}

function renderSetup(app: AppState): void {
  const error = h("p", { id: "setup-error", class: "error", role: "alert" });
  const pw = h("input", { id: "new-password", type: "password", autocomplete: "new-password" });
  const confirm = h("input", { id: "confirm-password", type: "password", autocomplete: "new-password" });
  const submit = async (ev: Event) => {
    ev.preventDefault();
    try {
      await api.createVault(pw.value, confirm.value);
      pw.value = confirm.value = "";
      await enterVault();
    } catch (e) {
      error.textContent = errorOf(e).message;
    }
  };
  replace(
    root,
    h(
      "form",
      { id: "setup", class: "gate", onsubmit: submit as EventListener },
      h("h1", {}, t("setupTitle")),
      h("p", {}, t("setupIntro")),
      h("p", { class: "muted" }, `${t("vaultAt")}: ${app.vault_dir}`),
      h("label", {}, t("newPassword"), pw),
      h("label", {}, t("confirmPassword"), confirm),
      h("p", { class: "muted" }, t("setupRules")),
      error,
      h("button", { id: "create-vault", type: "submit", class: "primary" }, t("createVault")),
    ),
  );
  pw.focus();
}

function lockText(reason: LockReason | null): string {
  switch (reason) {
    case "idle":
      return t("lockedIdle");
    case "changed":
      return t("lockedChanged");
    case "user":
      return t("lockedUser");
    default:
      return "";
  }
}

function renderUnlock(app: AppState): void {
  const error = h("p", { id: "unlock-error", class: "error", role: "alert" });
  const pw = h("input", { id: "unlock-password", type: "password", autocomplete: "current-password" });
  const button = h("button", { id: "unlock-button", type: "submit", class: "primary" }, t("unlock"));
  const submit = async (ev: Event) => {
    ev.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      await api.unlock(pw.value);
      pw.value = "";
      await enterVault();
    } catch (e) {
      error.textContent = errorOf(e).message;
      pw.select();
    } finally {
      button.disabled = false;
    }
  };
  replace(
    root,
    h(
      "form",
      { id: "unlock", class: "gate", onsubmit: submit as EventListener },
      h("h1", {}, t("unlockTitle")),
      h("p", { id: "lock-reason", "data-reason": app.lock_reason ?? "" }, lockText(app.lock_reason)),
      h("p", { class: "muted" }, `${t("vaultAt")}: ${app.vault_dir}`),
      h("label", {}, t("password"), pw),
      error,
      button,
    ),
  );
  pw.focus();
}

async function enterVault(): Promise<void> {
  state.app = await api.appState();
  state.route = "secrets";
  state.selected = null;
  state.detail = null;
  state.editor = null;
  state.revealed.clear();
  await loadList();
  render();
}

function renderMain(): void {
  const search = h("input", {
    id: "search",
    type: "search",
    placeholder: t("searchPlaceholder"),
    "aria-label": t("search"),
    value: state.query,
    oninput: ((ev: Event) => {
      state.query = (ev.target as HTMLInputElement).value;
      void loadList().then(renderList);
    }) as EventListener,
  });
  const nav = (route: Route, label: string) =>
    h(
      "button",
      {
        id: `nav-${route}`,
        class: state.route === route ? "nav active" : "nav",
        onclick: () => go(route),
      },
      label,
    );
  replace(
    root,
    h(
      "div",
      { id: "app-main", class: "shell" },
      h(
        "header",
        { class: "topbar" },
        h("strong", { class: "brand" }, t("appName")),
        nav("secrets", t("navSecrets")),
        nav("generator", t("navGenerator")),
        nav("security", t("navSecurity")),
        nav("audit", t("navAudit")),
        nav("settings", t("navSettings")),
        h("div", { class: "spacer" }),
        state.route === "secrets" ? search : null,
        h("button", { id: "new-secret", onclick: () => openEditor("new") }, t("newSecret")),
        h("button", { id: "lock-button", onclick: () => void lockNow() }, t("lock")),
      ),
      h("main", { id: "view" }),
    ),
  );
  renderView();
}

function renderView(): void {
  const view = $("#view");
  if (!view) return;
  if (state.route === "secrets") {
    replace(
      view,
      h(
        "div",
        { class: "columns" },
        h("aside", { id: "sidebar" }),
        h("section", { id: "secret-list", class: "list" }),
        h("section", { id: "detail", class: "detail" }),
      ),
    );
    renderSidebar();
    renderList();
    renderDetail();
  } else if (state.route === "audit") {
    renderAudit(view);
  } else if (state.route === "generator") {
    renderGenerator(view);
  } else if (state.route === "security") {
    renderSecurity(view);
  } else {
    renderSettings(view);
  }
}

function go(route: Route): void {
  state.route = route;
  state.revealed.clear();
  renderMain();
  if (route === "audit") void loadAudit();
  if (route === "security") void loadSecurity();
  // The CLI or another process may have changed the vault since the list was read.
  if (route === "secrets")
    void loadList().then(() => {
      renderSidebar();
      renderList();
    });
}

async function lockNow(): Promise<void> {
  await api.lock();
  state.revealed.clear();
  state.detail = null;
  state.editor = null;
  await refreshApp();
}

// ---------------------------------------------------------------- secrets

async function loadList(): Promise<void> {
  const list = await guard(() =>
    api.list({ query: state.query, tag: state.tag, folder: state.folder }),
  );
  if (!list) return;
  state.list = list;
  // Tags and folders come from the unfiltered vault so the sidebar does not shrink as you filter.
  if (!state.query && !state.tag && !state.folder) {
    state.allTags = [...new Set(list.flatMap((s) => s.tags))].sort();
  }
  state.folders = (await guard(() => api.folders())) ?? state.folders;
}

function renderSidebar(): void {
  const side = $("#sidebar");
  if (!side) return;
  const pick = (tag: string | null, folder: string | null) => async () => {
    state.tag = tag;
    state.folder = folder;
    await loadList();
    renderSidebar();
    renderList();
  };
  replace(
    side,
    h(
      "button",
      { id: "filter-all", class: !state.tag && !state.folder ? "filter active" : "filter", onclick: pick(null, null) },
      t("allSecrets"),
    ),
    state.folders.length ? h("h3", {}, t("folders")) : null,
    state.folders.map((f) =>
      h(
        "button",
        {
          class: state.folder === f.path ? "filter folder-item active" : "filter folder-item",
          "data-folder": f.path,
          style: null,
          onclick: pick(null, f.path),
        },
        h("span", { class: `indent-${Math.min(f.depth, 5)}` }, f.path.split("/").pop() ?? f.path),
      ),
    ),
    state.allTags.length ? h("h3", {}, t("tags")) : null,
    state.allTags.map((tag) =>
      h(
        "button",
        {
          class: state.tag === tag ? "filter tag-item active" : "filter tag-item",
          "data-tag": tag,
          onclick: pick(tag, null),
        },
        `#${tag}`,
      ),
    ),
  );
}

function renderList(): void {
  const el = $("#secret-list");
  if (!el) return;
  if (!state.list.length) {
    const filtered = state.query || state.tag || state.folder;
    replace(el, h("p", { class: "empty" }, filtered ? t("noMatch") : t("noSecrets")));
    return;
  }
  replace(
    el,
    h(
      "ul",
      { role: "listbox" },
      state.list.map((s) =>
        h(
          "li",
          {
            class: s.name === state.selected ? "secret-row selected" : "secret-row",
            "data-name": s.name,
            role: "option",
            tabindex: 0,
            onclick: () => void select(s.name),
            onkeydown: ((ev: KeyboardEvent) => {
              if (ev.key === "Enter") void select(s.name);
            }) as EventListener,
          },
          h("span", { class: "secret-name" }, s.name),
          h(
            "span",
            { class: "secret-meta" },
            s.folder ? h("span", { class: "chip" }, s.folder) : null,
            s.tags.map((tag) => h("span", { class: "chip tag" }, `#${tag}`)),
            s.expired ? h("span", { class: "chip bad" }, t("expired")) : null,
          ),
        ),
      ),
    ),
  );
}

async function select(name: string): Promise<void> {
  state.selected = name;
  state.editor = null;
  state.revealed.clear();
  const detail = await guard(() => api.view(name));
  state.detail = detail ?? null;
  renderList();
  renderDetail();
}

function dateOf(iso: string | null): string {
  return iso ? iso.slice(0, 10) : "";
}

function localTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(state.app?.settings.language === "ja" ? "ja-JP" : "en-GB") : "—";
}

let detailShown: string | null = null;

function renderDetail(): void {
  const el = $("#detail");
  if (!el) return;
  // A different secret, or the editor opening or closing, starts at the top.
  const showing = state.editor ? `edit:${state.editor.mode}:${state.editor.name}` : (state.detail?.name ?? null);
  if (showing !== detailShown) {
    el.scrollTop = 0;
    detailShown = showing;
  }
  if (state.editor) return renderEditor(el, state.editor);
  const d = state.detail;
  if (!d) {
    replace(el, h("p", { class: "empty" }, t("selectSecret")));
    return;
  }
  const fieldRow = (f: Detail["fields"][number]) => {
    const shown = state.revealed.get(f.name);
    const value = f.sensitive ? (shown ?? f.masked) : (f.value ?? f.masked);
    return h(
      "div",
      { class: "field", "data-field": f.name },
      h("div", { class: "field-name" }, f.name, f.sensitive ? h("span", { class: "chip" }, t("sensitive")) : null),
      h(f.multiline ? "pre" : "code", { class: shown !== undefined ? "field-value revealed" : "field-value" }, value),
      h(
        "div",
        { class: "field-actions" },
        f.sensitive
          ? h(
              "button",
              { class: "reveal", onclick: () => void toggleReveal(d.name, f.name) },
              shown !== undefined ? t("hide") : t("reveal"),
            )
          : null,
        h("button", { class: "copy", onclick: () => void copyField(d.name, f.name) }, t("copy")),
      ),
    );
  };
  replace(
    el,
    h("h2", { id: "detail-name" }, d.name),
    h(
      "div",
      { class: "actions" },
      h("button", { id: "edit-secret", onclick: () => openEditor("edit") }, t("edit")),
      h("button", { id: "delete-secret", class: "danger", onclick: () => askDelete(d.name) }, t("delete")),
    ),
    h("h3", {}, t("fields")),
    h("div", { id: "detail-fields" }, d.fields.map(fieldRow)),
    h("h3", {}, t("bindings")),
    d.bindings.length
      ? h(
          "table",
          { id: "detail-bindings", class: "bindings" },
          d.bindings.map((b) => h("tr", {}, h("td", {}, h("code", {}, b.env)), h("td", {}, "→ ", b.field))),
        )
      : h("p", { class: "muted" }, t("noBindings")),
    h(
      "dl",
      { class: "meta" },
      h("dt", {}, t("tags")),
      h("dd", { id: "detail-tags" }, d.tags.join(", ") || "—"),
      h("dt", {}, t("folder")),
      h("dd", { id: "detail-folder" }, d.folder ?? "—"),
      h("dt", {}, t("expires")),
      h("dd", { id: "detail-expires", "data-iso": d.expires_at ?? "" }, d.expires_at ? dateOf(d.expires_at) : "—"),
      h("dt", {}, t("url")),
      h("dd", { id: "detail-url" }, d.url ?? "—"),
      h("dt", {}, t("notes")),
      h("dd", { id: "detail-notes", class: "notes" }, d.notes ?? "—"),
      h("dt", {}, t("created")),
      h("dd", {}, localTime(d.created_at)),
      h("dt", {}, t("updated")),
      h("dd", {}, localTime(d.updated_at)),
    ),
  );
}

async function toggleReveal(name: string, field: string): Promise<void> {
  if (state.revealed.has(field)) {
    state.revealed.delete(field);
  } else {
    const r = await guard(() => api.reveal(name, field));
    if (r === undefined) return;
    state.revealed.set(field, r.value);
  }
  renderDetail();
}

async function copyField(name: string, field: string): Promise<void> {
  const r = await guard(() => api.copy(name, field));
  if (r) toast(t("copied", { n: r.clear_after_secs }));
}

function copyFirstSensitive(): void {
  const d = state.detail;
  if (!d || state.editor) return;
  const field = d.fields.find((f) => f.sensitive) ?? d.fields[0];
  if (field) void copyField(d.name, field.name);
}

function askDelete(name: string): void {
  state.confirm = {
    text: t("confirmDelete", { name }),
    run: async () => {
      const ok = await guard(() => api.remove(name));
      if (ok === undefined) return;
      state.selected = null;
      state.detail = null;
      toast(t("deleted", { name }));
      await loadList();
      renderView();
    },
  };
  openOverlay("confirm");
}

// ---------------------------------------------------------------- editor

function formOf(d: Detail): Form {
  return {
    fields: d.fields.map((f) => ({ name: f.name, value: f.sensitive ? null : f.value, sensitive: f.sensitive })),
    bindings: d.bindings.map((b) => ({ ...b })),
    notes: d.notes ?? "",
    url: d.url ?? "",
    tags: [...d.tags],
    expires: dateOf(d.expires_at),
    folder: d.folder ?? "",
  };
}

function templateFields(name: string): EditorField[] {
  const tpl = state.app?.templates.find((x) => x.name === name);
  if (!tpl) return [{ name: "value", value: "", sensitive: true, multiline: false, hint: "", keep: false }];
  return tpl.fields.map((f) => ({
    name: f.name,
    value: "",
    sensitive: f.sensitive,
    multiline: f.multiline,
    hint: f.hint,
    keep: false,
  }));
}

function templateBindings(name: string): { env: string; field: string }[] {
  const tpl = state.app?.templates.find((x) => x.name === name);
  return (tpl?.fields ?? []).filter((f) => f.binding).map((f) => ({ env: f.binding as string, field: f.name }));
}

function openEditor(mode: "new" | "edit"): void {
  if (state.route !== "secrets") go("secrets");
  if (mode === "edit") {
    const d = state.detail;
    if (!d) return;
    state.revealed.clear();
    const before = formOf(d);
    state.editor = {
      mode,
      name: d.name,
      template: "",
      before,
      fields: d.fields.map((f) => ({
        name: f.name,
        value: f.sensitive ? "" : (f.value ?? ""),
        sensitive: f.sensitive,
        multiline: f.multiline,
        hint: f.hint ?? "",
        keep: f.sensitive || f.value === null,
      })),
      bindings: before.bindings.map((b) => ({ ...b })),
      notes: before.notes,
      url: before.url,
      tags: before.tags.join(", "),
      expires: before.expires,
      folder: before.folder,
      error: "",
    };
  } else {
    state.editor = {
      mode,
      name: "",
      template: "",
      before: null,
      fields: templateFields(""),
      bindings: [],
      notes: "",
      url: "",
      tags: "",
      expires: "",
      folder: state.folder ?? "",
      error: "",
    };
  }
  renderDetail();
  const first = $(mode === "new" ? "#editor-name" : ".editor-field .field-value");
  first?.focus();
}

function renderEditor(el: HTMLElement, ed: Editor): void {
  const rerender = () => renderEditor(el, ed);
  const text = (id: string, value: string, set: (v: string) => void, attrs: Record<string, string> = {}) =>
    h("input", {
      id,
      type: "text",
      value,
      ...attrs,
      oninput: ((ev: Event) => set((ev.target as HTMLInputElement).value)) as EventListener,
    });
  const fieldRows = ed.fields.map((f, i) => {
    const valueAttrs = {
      class: "field-value",
      placeholder: f.keep ? t("keepValue") : f.hint,
      "aria-label": `${t("value")} ${f.name}`,
      oninput: ((ev: Event) => {
        f.value = (ev.target as HTMLInputElement).value;
      }) as EventListener,
    };
    const valueInput = f.multiline
      ? h("textarea", { ...valueAttrs, rows: 4 }, f.value)
      : h("input", { ...valueAttrs, type: f.sensitive ? "password" : "text", value: f.value });
    return h(
      "div",
      { class: "editor-field", "data-index": i, "data-field": f.name },
      h("input", {
        class: "field-name",
        type: "text",
        value: f.name,
        "aria-label": t("fieldName"),
        readonly: ed.mode === "edit" && ed.before?.fields.some((b) => b.name === f.name) ? true : null,
        oninput: ((ev: Event) => {
          f.name = (ev.target as HTMLInputElement).value;
        }) as EventListener,
      }),
      h(
        "span",
        { class: "value-cell" },
        valueInput,
        f.sensitive && !f.multiline
          ? h(
              "button",
              {
                class: "field-generate",
                type: "button",
                title: t("generate"),
                onclick: async () => {
                  const g = await guard(() => api.generate({}));
                  if (!g) return;
                  f.value = g.password;
                  f.keep = false;
                  rerender();
                },
              },
              t("generate"),
            )
          : null,
      ),
      h(
        "label",
        { class: "inline" },
        h("input", {
          class: "field-sensitive",
          type: "checkbox",
          checked: f.sensitive,
          onchange: ((ev: Event) => {
            f.sensitive = (ev.target as HTMLInputElement).checked;
            rerender();
          }) as EventListener,
        }),
        t("sensitive"),
      ),
      h(
        "button",
        {
          class: "field-remove",
          type: "button",
          onclick: () => {
            ed.fields.splice(i, 1);
            rerender();
          },
        },
        t("remove"),
      ),
    );
  });
  const bindingRows = ed.bindings.map((b, i) =>
    h(
      "div",
      { class: "editor-binding", "data-index": i },
      h("input", {
        class: "binding-env",
        type: "text",
        value: b.env,
        placeholder: "PGPASSWORD",
        "aria-label": t("envName"),
        oninput: ((ev: Event) => {
          b.env = (ev.target as HTMLInputElement).value.toUpperCase();
        }) as EventListener,
      }),
      h(
        "select",
        {
          class: "binding-field",
          "aria-label": t("fieldName"),
          onchange: ((ev: Event) => {
            b.field = (ev.target as HTMLSelectElement).value;
          }) as EventListener,
        },
        ed.fields.map((f) => h("option", { value: f.name, selected: f.name === b.field }, f.name)),
      ),
      h(
        "button",
        {
          class: "binding-remove",
          type: "button",
          onclick: () => {
            ed.bindings.splice(i, 1);
            rerender();
          },
        },
        t("remove"),
      ),
    ),
  );
  const templateNames: [string, string][] = [
    ["", t("templateNone")],
    ["login", t("templateLogin")],
    ["database", t("templateDatabase")],
    ["api", t("templateApi")],
    ["ssh", t("templateSsh")],
  ];
  const newFolder = h("input", { id: "new-folder", type: "text", placeholder: t("newFolder") });
  replace(
    el,
    h("h2", {}, ed.mode === "new" ? t("editorNew") : t("editorEdit", { name: ed.name })),
    h(
      "form",
      {
        id: "editor",
        onsubmit: ((ev: Event) => {
          ev.preventDefault();
          void saveEditor();
        }) as EventListener,
      },
      ed.mode === "new"
        ? h(
            "div",
            { class: "row" },
            h("label", {}, t("name"), text("editor-name", ed.name, (v) => (ed.name = v), { placeholder: t("namePlaceholder") })),
            h(
              "label",
              {},
              t("template"),
              h(
                "select",
                {
                  id: "editor-template",
                  onchange: ((ev: Event) => {
                    ed.template = (ev.target as HTMLSelectElement).value;
                    ed.fields = templateFields(ed.template);
                    ed.bindings = templateBindings(ed.template);
                    rerender();
                  }) as EventListener,
                },
                templateNames.map(([v, label]) => h("option", { value: v, selected: v === ed.template }, label)),
              ),
            ),
          )
        : null,
      h("h3", {}, t("fields")),
      h("div", { id: "editor-fields" }, fieldRows),
      h(
        "button",
        {
          id: "add-field",
          type: "button",
          onclick: () => {
            ed.fields.push({ name: "", value: "", sensitive: true, multiline: false, hint: "", keep: false });
            rerender();
          },
        },
        t("addField"),
      ),
      h("h3", {}, t("bindings")),
      h("div", { id: "editor-bindings" }, bindingRows),
      h(
        "button",
        {
          id: "add-binding",
          type: "button",
          onclick: () => {
            ed.bindings.push({ env: "", field: ed.fields[0]?.name ?? "" });
            rerender();
          },
        },
        t("addBinding"),
      ),
      h(
        "div",
        { class: "grid" },
        h("label", {}, t("tags"), text("editor-tags", ed.tags, (v) => (ed.tags = v), { placeholder: t("tagsHint") })),
        h("label", {}, t("expires"), text("editor-expires", ed.expires, (v) => (ed.expires = v), { placeholder: t("expiresHint") })),
        h("label", {}, t("url"), text("editor-url", ed.url, (v) => (ed.url = v), { placeholder: "https://" })),
        h(
          "label",
          {},
          t("folder"),
          h(
            "select",
            {
              id: "editor-folder",
              onchange: ((ev: Event) => {
                ed.folder = (ev.target as HTMLSelectElement).value;
              }) as EventListener,
            },
            h("option", { value: "", selected: ed.folder === "" }, t("noFolder")),
            state.folders.map((f) => h("option", { value: f.path, selected: f.path === ed.folder }, f.path)),
          ),
          h(
            "span",
            { class: "row" },
            newFolder,
            h(
              "button",
              {
                id: "create-folder",
                type: "button",
                onclick: async () => {
                  const path = newFolder.value.trim();
                  if (!path) return;
                  const ok = await guard(() => api.folderCreate(path));
                  if (ok === undefined) return;
                  state.folders = (await guard(() => api.folders())) ?? state.folders;
                  ed.folder = path;
                  rerender();
                },
              },
              t("createFolder"),
            ),
          ),
        ),
      ),
      h(
        "label",
        {},
        t("notes"),
        h(
          "textarea",
          {
            id: "editor-notes",
            rows: 3,
            oninput: ((ev: Event) => {
              ed.notes = (ev.target as HTMLTextAreaElement).value;
            }) as EventListener,
          },
          ed.notes,
        ),
      ),
      h("p", { id: "editor-error", class: "error", role: "alert" }, ed.error),
      h(
        "div",
        { class: "actions" },
        h("button", { id: "save-secret", type: "submit", class: "primary" }, t("save")),
        h("button", { id: "cancel-edit", type: "button", onclick: () => closeEditor() }, t("cancel")),
      ),
    ),
  );
}

function closeEditor(): void {
  state.editor = null;
  renderDetail();
}

function tagsOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function saveEditor(): Promise<void> {
  const ed = state.editor;
  if (!ed) return;
  const after: Form = {
    fields: ed.fields.map((f) => ({
      name: f.name.trim(),
      value: f.keep && f.value === "" ? null : f.value,
      sensitive: f.sensitive,
    })),
    bindings: ed.bindings.filter((b) => b.env.trim()).map((b) => ({ env: b.env.trim(), field: b.field })),
    notes: ed.notes,
    url: ed.url,
    tags: tagsOf(ed.tags),
    expires: ed.expires,
    folder: ed.folder,
  };
  try {
    const name = ed.name.trim();
    if (ed.mode === "new") {
      await api.create({ name, template: ed.template || null, form: after });
    } else {
      await api.update({ name, before: ed.before as Form, after });
    }
    state.editor = null;
    toast(t("saved", { name }));
    await loadList();
    renderSidebar();
    await select(name);
  } catch (e) {
    const err = errorOf(e);
    if (err.code === "locked") {
      await refreshApp();
      return;
    }
    ed.error = err.message;
    const msg = $("#editor-error");
    if (msg) msg.textContent = err.message;
  }
}

// ---------------------------------------------------------------- audit

const SOURCES = ["cli", "desktop", "mcp", "agent"];

function dayStart(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

function auditQuery(): AuditQuery {
  const f = state.audit.filters;
  return { ...f, page: state.audit.page, page_size: 50 };
}

async function loadAudit(): Promise<void> {
  const result = await guard(() => api.auditQuery(auditQuery()));
  if (!result) return;
  state.audit.result = result;
  state.audit.page = result.page;
  renderAuditTable();
}

function renderAudit(view: HTMLElement): void {
  const f = state.audit.filters;
  const select = (id: string, options: string[], value: string | undefined) =>
    h(
      "select",
      { id },
      h("option", { value: "" }, t("any")),
      options.map((o) => h("option", { value: o, selected: o === value }, o)),
    );
  const fromText = f.from_ms !== undefined ? new Date(f.from_ms).toISOString().slice(0, 10) : "";
  const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
  const home = state.app?.vault_dir.replace(/\/[^/]*$/, "") ?? "";
  const exportPath = h("input", { id: "audit-export-path", type: "text", value: `${home}/secretctl-audit-${stamp}` });
  const apply = () => {
    const val = (id: string) => (($(`#${id}`) as HTMLInputElement | null)?.value ?? "").trim();
    const to = dayStart(val("audit-to"));
    state.audit.filters = {
      action: val("audit-action") || undefined,
      source: val("audit-source") || undefined,
      key: val("audit-key") || undefined,
      from_ms: dayStart(val("audit-from")),
      to_ms: to === undefined ? undefined : to + 86_400_000,
    };
    state.audit.page = 0;
    void loadAudit();
  };
  const doExport = async (format: "csv" | "json") => {
    const path = `${exportPath.value.trim().replace(/\.(csv|json)$/, "")}.${format}`;
    const r = await guard(() => api.auditExport({ ...auditQuery(), page: 0 }, format, path));
    const out = $("#audit-export-result");
    if (r && out) out.textContent = t("exported", { n: r.count, path: r.path });
  };
  replace(
    view,
    h(
      "section",
      { id: "audit", class: "page" },
      h("h2", {}, t("auditTitle")),
      h(
        "form",
        {
          id: "audit-filters",
          class: "filters",
          onsubmit: ((ev: Event) => {
            ev.preventDefault();
            apply();
          }) as EventListener,
        },
        h("label", {}, t("action"), select("audit-action", state.app?.audit_actions ?? [], f.action)),
        h("label", {}, t("source"), select("audit-source", SOURCES, f.source)),
        h("label", {}, t("key"), h("input", { id: "audit-key", type: "text", value: f.key ?? "" })),
        h("label", {}, t("from"), h("input", { id: "audit-from", type: "text", placeholder: t("dateHint"), value: fromText })),
        h("label", {}, t("to"), h("input", { id: "audit-to", type: "text", placeholder: t("dateHint") })),
        h("button", { id: "audit-apply", type: "submit", class: "primary" }, t("apply")),
      ),
      h(
        "div",
        { class: "row" },
        h("button", { id: "audit-verify", onclick: () => void verifyChain() }, t("verify")),
        h("span", { id: "audit-verify-result" }),
      ),
      h("div", { id: "audit-table-wrap" }),
      h(
        "div",
        { class: "row" },
        h("label", { class: "grow" }, t("exportTo"), exportPath),
        h("button", { id: "audit-export-csv", onclick: () => void doExport("csv") }, t("exportCsv")),
        h("button", { id: "audit-export-json", onclick: () => void doExport("json") }, t("exportJson")),
      ),
      h("p", { id: "audit-export-result", class: "muted" }),
    ),
  );
  renderAuditTable();
}

function renderAuditTable(): void {
  const wrap = $("#audit-table-wrap");
  const r = state.audit.result;
  if (!wrap || !r) return;
  const turn = (delta: number) => () => {
    state.audit.page = Math.max(0, r.page + delta);
    void loadAudit();
  };
  replace(
    wrap,
    h(
      "table",
      { id: "audit-table", class: "audit" },
      h(
        "thead",
        {},
        h("tr", {}, ["#", t("time"), t("action"), t("source"), t("key"), t("result")].map((c) => h("th", {}, c))),
      ),
      h(
        "tbody",
        {},
        r.rows.map((row) =>
          h(
            "tr",
            {
              class: row.success ? "audit-row" : "audit-row failed",
              "data-seq": row.seq,
              "data-action": row.action,
              "data-source": row.source,
              "data-key": row.key ?? "",
            },
            h("td", {}, row.seq),
            h("td", { title: row.timestamp }, localTime(row.timestamp)),
            h("td", {}, row.action),
            h("td", {}, row.source),
            h("td", {}, row.key ?? (row.key_hash ? `#${row.key_hash}` : "—")),
            h("td", { title: row.detail }, row.success ? t("ok") : `${t("failed")} (${row.error ?? ""})`),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "row pager" },
      h("button", { id: "audit-prev", disabled: r.page === 0, onclick: turn(-1) }, t("previous")),
      h("span", { id: "audit-page-info" }, t("page", { page: r.page + 1, pages: r.pages, total: r.total })),
      h("button", { id: "audit-next", disabled: r.page + 1 >= r.pages, onclick: turn(1) }, t("next")),
    ),
  );
}

async function verifyChain(): Promise<void> {
  const v = await guard(() => api.auditVerify());
  const out = $("#audit-verify-result");
  if (!v || !out) return;
  out.className = v.ok ? "verify ok" : "verify bad";
  out.dataset.ok = String(v.ok);
  out.textContent = v.ok
    ? t("verified", { n: v.records, seq: v.head_seq })
    : t("verifyFailed", { seq: v.first_bad_seq ?? "?", problem: v.problem ?? "" });
}

// ---------------------------------------------------------------- generator

function renderGenerator(view: HTMLElement): void {
  const g = state.gen;
  const r = g.request;
  const check = (id: string, key: "lowercase" | "uppercase" | "digits" | "symbols", label: string) =>
    h(
      "label",
      { class: "inline" },
      h("input", {
        id,
        type: "checkbox",
        checked: r[key],
        onchange: ((ev: Event) => {
          r[key] = (ev.target as HTMLInputElement).checked;
        }) as EventListener,
      }),
      label,
    );
  const num = (id: string, key: "length" | "word_count", min: number, max: number) =>
    h("input", {
      id,
      type: "number",
      min,
      max,
      value: r[key],
      oninput: ((ev: Event) => {
        r[key] = Number((ev.target as HTMLInputElement).value);
      }) as EventListener,
    });
  const run = async () => {
    const out = await guard(() => api.generate(r));
    if (!out) return;
    g.password = out.password;
    g.entropy = out.entropy_bits;
    renderGenerator(view);
  };
  replace(
    view,
    h(
      "section",
      { id: "generator", class: "page" },
      h("h2", {}, t("genTitle")),
      h(
        "div",
        { class: "grid" },
        h(
          "label",
          {},
          t("genMode"),
          h(
            "select",
            {
              id: "gen-mode",
              onchange: ((ev: Event) => {
                r.words = (ev.target as HTMLSelectElement).value === "words";
                renderGenerator(view);
              }) as EventListener,
            },
            h("option", { value: "chars", selected: !r.words }, t("genChars")),
            h("option", { value: "words", selected: r.words }, t("genWords")),
          ),
        ),
        r.words
          ? [
              h("label", {}, t("words"), num("gen-words", "word_count", 1, 64)),
              h(
                "label",
                {},
                t("separator"),
                h("input", {
                  id: "gen-separator",
                  type: "text",
                  value: r.separator,
                  oninput: ((ev: Event) => {
                    r.separator = (ev.target as HTMLInputElement).value;
                  }) as EventListener,
                }),
              ),
            ]
          : [
              h("label", {}, t("length"), num("gen-length", "length", 4, 4096)),
              h(
                "label",
                {},
                t("exclude"),
                h("input", {
                  id: "gen-exclude",
                  type: "text",
                  value: r.exclude,
                  oninput: ((ev: Event) => {
                    r.exclude = (ev.target as HTMLInputElement).value;
                  }) as EventListener,
                }),
              ),
              h(
                "div",
                { class: "row" },
                check("gen-lower", "lowercase", t("lowercase")),
                check("gen-upper", "uppercase", t("uppercase")),
                check("gen-digits", "digits", t("digits")),
                check("gen-symbols", "symbols", t("symbols")),
              ),
            ],
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { id: "gen-generate", class: "primary", onclick: () => void run() }, t("generate")),
        h(
          "button",
          {
            id: "gen-copy",
            disabled: !g.password,
            onclick: async () => {
              const c = await guard(() => api.copyGenerated());
              if (c) toast(t("copied", { n: c.clear_after_secs }));
            },
          },
          t("copy"),
        ),
      ),
      h("pre", { id: "gen-output", class: "generated" }, g.password),
      g.password ? h("p", { id: "gen-entropy", class: "muted" }, t("entropy", { bits: g.entropy })) : null,
    ),
  );
}

// ---------------------------------------------------------------- security

async function loadSecurity(): Promise<void> {
  const report = await guard(() => api.securityReport());
  if (!report) return;
  state.security = report;
  const view = $("#view");
  if (view && state.route === "security") renderSecurity(view);
}

function renderSecurity(view: HTMLElement): void {
  const r = state.security;
  const open = (key: string) =>
    h(
      "button",
      {
        class: "link",
        "data-key": key,
        onclick: () => {
          go("secrets");
          void select(key);
        },
      },
      key,
    );
  const section = (id: string, title: string, items: Node[]) =>
    h(
      "div",
      { id, class: "report-section" },
      h("h3", {}, `${title} (${items.length})`),
      items.length ? h("ul", {}, items) : h("p", { class: "muted" }, t("nothingFound")),
    );
  const days = r ? Math.round(r.expiring_within_secs / 86_400) : 30;
  replace(
    view,
    h(
      "section",
      { id: "security", class: "page" },
      h(
        "div",
        { class: "row" },
        h("h2", { class: "grow" }, t("securityTitle")),
        h("button", { id: "security-refresh", onclick: () => void loadSecurity() }, t("refresh")),
      ),
      r
        ? [
            h(
              "div",
              { class: "score-box" },
              h("span", { id: "security-score", class: r.score >= 80 ? "score good" : r.score >= 50 ? "score fair" : "score bad" }, r.score),
              h(
                "div",
                {},
                h("div", {}, t("score"), " / 100"),
                h(
                  "div",
                  { class: "muted" },
                  `${t("strengthC")} ${r.components.strength} · ${t("reuseC")} ${r.components.reuse} · ${t("expiryC")} ${r.components.expiry}`,
                ),
                h("div", { class: "muted" }, t("secretsCount", { n: r.counts.secrets, v: r.counts.values })),
              ),
            ),
            section(
              "security-weak",
              t("weak"),
              r.weak.map((w) => h("li", {}, open(w.key), ` · ${w.field} · ${w.reason} (${w.crack_time})`)),
            ),
            section(
              "security-reused",
              t("reused"),
              r.reused.map((g) =>
                h("li", {}, g.members.map((m, i) => [i ? ", " : "", open(m.key), ` · ${m.field}`])),
              ),
            ),
            section(
              "security-expired",
              t("expiredList"),
              r.expired.map((e) => h("li", {}, open(e.key), ` · ${e.expires_at.slice(0, 10)}`)),
            ),
            section(
              "security-expiring",
              t("expiring", { days }),
              r.expiring.map((e) =>
                h("li", {}, open(e.key), ` · ${e.expires_at.slice(0, 10)} · ${t("daysLeft", { n: e.days_left })}`),
              ),
            ),
          ]
        : null,
    ),
  );
}

// ---------------------------------------------------------------- settings

function renderSettings(view: HTMLElement): void {
  const app = state.app;
  if (!app) return;
  const s = app.settings;
  const theme = h(
    "select",
    { id: "settings-theme" },
    (["system", "light", "dark"] as Theme[]).map((v) =>
      h("option", { value: v, selected: v === s.theme }, t(v === "system" ? "themeSystem" : v === "light" ? "themeLight" : "themeDark")),
    ),
  );
  const lang = h(
    "select",
    { id: "settings-language" },
    h("option", { value: "en", selected: s.language === "en" }, "English"),
    h("option", { value: "ja", selected: s.language === "ja" }, "日本語"),
  );
  const minutes = h("input", { id: "settings-autolock", type: "number", min: 1, max: 480, value: s.auto_lock_minutes });
  const pwCurrent = h("input", { id: "pw-current", type: "password", autocomplete: "current-password" });
  const pwNew = h("input", { id: "pw-new", type: "password", autocomplete: "new-password" });
  const pwConfirm = h("input", { id: "pw-confirm", type: "password", autocomplete: "new-password" });
  const pwResult = h("p", { id: "pw-result", role: "status" });
  replace(
    view,
    h(
      "section",
      { id: "settings", class: "page" },
      h("h2", {}, t("settingsTitle")),
      h(
        "form",
        {
          id: "settings-form",
          class: "grid",
          onsubmit: ((ev: Event) => {
            ev.preventDefault();
            void saveSettings({
              theme: theme.value as Theme,
              language: lang.value as Language,
              auto_lock_minutes: Number(minutes.value),
            });
          }) as EventListener,
        },
        h("label", {}, t("theme"), theme),
        h("label", {}, t("language"), lang),
        h("label", {}, t("autoLock"), minutes),
        h("div", {}, h("button", { id: "settings-save", type: "submit", class: "primary" }, t("save"))),
      ),
      h("h3", {}, t("changePassword")),
      h(
        "form",
        {
          id: "password-form",
          class: "grid",
          onsubmit: (async (ev: Event) => {
            ev.preventDefault();
            pwResult.className = "";
            try {
              await api.changePassword(pwCurrent.value, pwNew.value, pwConfirm.value);
              pwCurrent.value = pwNew.value = pwConfirm.value = "";
              pwResult.textContent = t("passwordChanged");
              pwResult.className = "ok";
            } catch (e) {
              pwResult.textContent = errorOf(e).message;
              pwResult.className = "error";
            }
          }) as EventListener,
        },
        h("label", {}, t("currentPassword"), pwCurrent),
        h("label", {}, t("newPasswordLabel"), pwNew),
        h("label", {}, t("repeatNew"), pwConfirm),
        h("div", {}, h("button", { id: "pw-change", type: "submit" }, t("changePassword"))),
      ),
      pwResult,
      h("p", {}, h("button", { id: "show-shortcuts", onclick: () => openOverlay("help") }, t("showShortcuts"))),
      h("p", { class: "muted" }, `${t("vaultAt")}: ${app.vault_dir} · ${t("version", { v: app.version })}`),
    ),
  );
}

async function saveSettings(settings: Settings): Promise<void> {
  const app = await guard(() => api.saveSettings(settings));
  if (!app) return;
  state.app = app;
  applyLook(app.settings);
  renderMain();
  toast(t("settingsSaved"));
}

// ---------------------------------------------------------------- overlays

interface Command {
  label: string;
  run: () => void;
}

function commands(): Command[] {
  const s = state.app?.settings;
  const set = (patch: Partial<Settings>) => () => {
    if (s) void saveSettings({ ...s, ...patch });
  };
  return [
    { label: t("scNew"), run: () => openEditor("new") },
    { label: t("scSearch"), run: focusSearch },
    { label: t("scLock"), run: () => void lockNow() },
    { label: t("navSecrets"), run: () => go("secrets") },
    { label: t("navGenerator"), run: () => go("generator") },
    { label: t("navSecurity"), run: () => go("security") },
    { label: t("navAudit"), run: () => go("audit") },
    { label: t("navSettings"), run: () => go("settings") },
    { label: t("cmdThemeLight"), run: set({ theme: "light" }) },
    { label: t("cmdThemeDark"), run: set({ theme: "dark" }) },
    { label: t("cmdThemeSystem"), run: set({ theme: "system" }) },
    { label: t("cmdEnglish"), run: set({ language: "en" }) },
    { label: t("cmdJapanese"), run: set({ language: "ja" }) },
    { label: t("shortcuts"), run: () => openOverlay("help") },
    ...state.list.map((item) => ({
      label: t("cmdOpen", { name: item.name }),
      run: () => {
        go("secrets");
        void select(item.name);
      },
    })),
  ];
}

function closeOverlay(): void {
  state.overlay = null;
  $("#overlay")?.remove();
}

function openOverlay(kind: "palette" | "help" | "confirm"): void {
  closeOverlay();
  state.overlay = kind;
  const box = h("div", { class: "dialog", role: "dialog", "aria-modal": "true" });
  const overlay = h(
    "div",
    {
      id: "overlay",
      class: "overlay",
      onclick: ((ev: Event) => {
        if (ev.target === overlay) closeOverlay();
      }) as EventListener,
    },
    box,
  );
  document.body.appendChild(overlay);
  if (kind === "palette") {
    const input = h("input", { id: "palette-input", type: "text", placeholder: t("palettePlaceholder") });
    const list = h("ul", { id: "palette-list" });
    let active = 0;
    let shown: Command[] = [];
    const draw = () => {
      const q = input.value.toLowerCase();
      shown = commands().filter((c) => c.label.toLowerCase().includes(q)).slice(0, 12);
      active = Math.min(active, Math.max(0, shown.length - 1));
      replace(
        list,
        shown.map((c, i) =>
          h(
            "li",
            {
              class: i === active ? "palette-item active" : "palette-item",
              onclick: () => {
                closeOverlay();
                c.run();
              },
            },
            c.label,
          ),
        ),
      );
    };
    input.addEventListener("input", () => {
      active = 0;
      draw();
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowDown") active = Math.min(active + 1, shown.length - 1);
      else if (ev.key === "ArrowUp") active = Math.max(active - 1, 0);
      else if (ev.key === "Enter") {
        ev.preventDefault();
        const c = shown[active];
        closeOverlay();
        c?.run();
        return;
      } else return;
      ev.preventDefault();
      draw();
    });
    replace(box, h("div", { id: "palette" }, input, list));
    draw();
    input.focus();
  } else if (kind === "help") {
    const rows: [string, string][] = [
      ["Ctrl/⌘ K", t("scPalette")],
      ["N", t("scNew")],
      ["F", t("scSearch")],
      ["L", t("scLock")],
      ["C", t("scCopy")],
      ["S, Ctrl/⌘ S", t("scSave")],
      ["Esc", t("scEscape")],
      ["?", t("scHelp")],
    ];
    const close = h("button", { id: "help-close", onclick: closeOverlay }, t("close"));
    replace(
      box,
      h(
        "div",
        { id: "shortcuts-help" },
        h("h2", {}, t("shortcuts")),
        h("table", {}, rows.map(([k, v]) => h("tr", {}, h("td", {}, h("kbd", {}, k)), h("td", {}, v)))),
        close,
      ),
    );
    close.focus();
  } else if (kind === "confirm" && state.confirm) {
    const c = state.confirm;
    const yes = h(
      "button",
      {
        id: "confirm-yes",
        class: "danger",
        onclick: () => {
          closeOverlay();
          c.run();
        },
      },
      t("confirm"),
    );
    replace(
      box,
      h(
        "div",
        { id: "confirm-dialog" },
        h("p", {}, c.text),
        h("div", { class: "actions" }, yes, h("button", { id: "confirm-no", onclick: closeOverlay }, t("cancel"))),
      ),
    );
    yes.focus();
  }
}

function focusSearch(): void {
  if (state.route !== "secrets") go("secrets");
  const el = $("#search") as HTMLInputElement | null;
  el?.focus();
  el?.select();
}

// ---------------------------------------------------------------- keyboard and activity

function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

document.addEventListener("keydown", (ev) => {
  const app = state.app;
  if (!app?.unlocked) return;
  const mod = ev.ctrlKey || ev.metaKey;
  const key = ev.key.toLowerCase();
  if (ev.key === "Escape") {
    if (state.overlay) closeOverlay();
    else if (state.editor) closeEditor();
    else if (document.activeElement?.id === "search") {
      const el = $("#search") as HTMLInputElement;
      el.value = "";
      state.query = "";
      el.blur();
      void loadList().then(renderList);
    }
    ev.preventDefault();
    return;
  }
  if (mod && key === "k") {
    ev.preventDefault();
    if (state.overlay === "palette") closeOverlay();
    else openOverlay("palette");
    return;
  }
  if (state.overlay) return;
  if (mod && key === "s") {
    ev.preventDefault();
    if (state.editor) void saveEditor();
    return;
  }
  if (mod || ev.altKey || typing(ev.target)) return;
  const actions: Record<string, () => void> = {
    n: () => openEditor("new"),
    f: focusSearch,
    l: () => void lockNow(),
    c: copyFirstSensitive,
    s: () => {
      if (state.editor) void saveEditor();
    },
    "?": () => openOverlay("help"),
  };
  const run = actions[ev.key === "?" ? "?" : key];
  if (run) {
    ev.preventDefault();
    run();
  }
});

// Activity keeps the vault unlocked; the idle lock itself runs in Rust. At most one report
// every few seconds.
let lastTouch = 0;
for (const type of ["keydown", "mousedown", "mousemove", "wheel"]) {
  document.addEventListener(
    type,
    () => {
      const now = Date.now();
      if (state.app?.unlocked && now - lastTouch > 5000) {
        lastTouch = now;
        void api.touch();
      }
    },
    { passive: true },
  );
}

window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  if (state.app) applyLook(state.app.settings);
});

void listen<LockReason>("vault-locked", () => {
  closeOverlay();
  state.revealed.clear();
  state.detail = null;
  state.editor = null;
  void refreshApp();
});

void (async () => {
  await refreshApp();
  if (state.app?.unlocked) await enterVault();
})();

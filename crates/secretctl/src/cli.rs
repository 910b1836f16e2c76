//! The command-line grammar (SPEC §4). Help text: one imperative sentence per option.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;
use secretctl_core::vault::VaultDir;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "secretctl",
    version,
    about = "Local-first secrets manager for developers who work with AI coding agents",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Use the vault in DIR (default: $SECRETCTL_HOME, else ~/.secretctl).
    #[arg(
        long = "vault-dir",
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    vault_dir_arg: Option<PathBuf>,
    /// Read the master password from FILE; one trailing newline is ignored (default:
    /// $SECRETCTL_PASSWORD_FILE).
    #[arg(
        long = "password-file",
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    password_file_arg: Option<PathBuf>,
}

/// An environment variable that is set and not empty (an empty one counts as unset).
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Global {
    /// The options as the environment alone gives them (for shell completion).
    pub fn from_env() -> Global {
        Global {
            vault_dir_arg: None,
            password_file_arg: None,
        }
    }

    pub fn vault_dir(&self) -> VaultDir {
        let dir = self
            .vault_dir_arg
            .clone()
            .or_else(|| env_path("SECRETCTL_HOME"))
            .unwrap_or_else(|| {
                env_path("HOME")
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(".secretctl")
            });
        VaultDir::new(dir)
    }

    pub fn password_file(&self) -> Option<PathBuf> {
        self.password_file_arg
            .clone()
            .or_else(|| env_path("SECRETCTL_PASSWORD_FILE"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new vault.
    Init,
    /// Create or update a secret; the value comes from stdin, a hidden prompt or --from-file.
    Set(SetArgs),
    /// Print a secret's value.
    Get(GetArgs),
    /// List secret names.
    List(ListArgs),
    /// Delete a secret.
    Delete(DeleteArgs),
    /// Run a command with secrets in its environment; its output is redacted.
    Run(RunArgs),
    /// Copy stdin to stdout with the values of the selected secrets redacted.
    Redact(RedactArgs),
    /// Write secrets in plaintext as env, JSON, YAML or shell.
    Export(ExportArgs),
    /// Import secrets from an env, JSON or YAML file, all or nothing.
    Import(ImportArgs),
    /// Render a template whose {{ secretctl://KEY[/FIELD] }} references become values.
    Inject(InjectArgs),
    /// Write an encrypted backup of the vault (always asks for the master password).
    Backup(BackupArgs),
    /// Restore a backup: merge its secrets in, or replace the whole vault.
    Restore(RestoreArgs),
    /// Unlock once: start a session agent so that commands need no password for a while.
    Unlock(UnlockArgs),
    /// Lock: stop the session agent and wipe its keys.
    Lock,
    /// Show whether the session agent is unlocked, and the time left.
    Status(JsonArg),
    /// Run the session agent (started by `unlock`; not for direct use).
    #[command(hide = true)]
    AgentServe(AgentServeArgs),
    /// Inspect, verify, export or prune the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the master password.
    #[command(subcommand)]
    Password(PasswordCommand),
    /// Approve, show, check or edit the MCP command policy (mcp-policy.yaml).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Generate random passwords or passphrases (no vault needed).
    Generate(GenerateArgs),
    /// Score the vault: weak, reused, expired and expiring secrets (never shows a value).
    Security(SecurityArgs),
    /// Hold a value from stdin on the clipboard, then clear it (started by `generate --copy`;
    /// not for direct use).
    #[command(hide = true)]
    ClipboardHold(ClipboardHoldArgs),
    /// Serve the MCP tools to an AI agent over stdin/stdout (needs `secretctl unlock`).
    McpServer,
    /// Set up AI clients to use the MCP server.
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Check the vault's health and say how to fix what is wrong.
    Doctor(JsonArg),
    /// Create, list, rename, move, delete or inspect folders.
    #[command(subcommand)]
    Folder(FolderCommand),
    /// Print version information.
    Version(VersionArgs),
    /// Print a shell completion script.
    Completion(CompletionArgs),
    /// Print the manual page (roff), or write one page per command into a directory.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Name of the secret (letters, digits, '.', '_', '/', '-').
    #[arg(value_name = "KEY", add = ArgValueCompleter::new(crate::completion::keys))]
    pub key: String,
    /// Read the value from FILE, byte for byte.
    #[arg(long, value_name = "FILE", conflicts_with = "keep_value")]
    pub from_file: Option<PathBuf>,
    /// Set field NAME to VALUE; `NAME=-` reads the value hidden from the terminal or stdin.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// Mark field NAME sensitive (masked, never shown to agents).
    #[arg(long = "sensitive", value_name = "NAME")]
    pub sensitive: Vec<String>,
    /// Mark field NAME not sensitive (shown in full to agents and listings).
    #[arg(long = "plain", value_name = "NAME")]
    pub plain: Vec<String>,
    /// Bind environment variable ENV to field FIELD for `run`.
    #[arg(long = "binding", value_name = "ENV=FIELD")]
    pub bindings: Vec<String>,
    /// Remove field NAME (and the bindings to it).
    #[arg(long = "remove-field", value_name = "NAME")]
    pub remove_fields: Vec<String>,
    /// Remove the binding of environment variable ENV.
    #[arg(long = "unbind", value_name = "ENV")]
    pub unbind: Vec<String>,
    /// Apply TEMPLATE's field definitions and bindings.
    #[arg(long, value_name = "TEMPLATE", value_parser = ["login", "database", "api", "ssh"])]
    pub template: Option<String>,
    /// Keep the stored value and change only the metadata named.
    #[arg(long)]
    pub keep_value: bool,
    /// Keep a trailing newline of a piped or typed value.
    #[arg(long)]
    pub keep_newline: bool,
    /// Set the notes to TEXT (an empty TEXT clears them).
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// Set the URL to URL (an empty URL clears it).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Replace the tags with TAGS, comma-separated (an empty TAGS clears them).
    #[arg(long, value_name = "TAGS")]
    pub tags: Option<String>,
    /// Expire the secret at WHEN: a duration (30d), a date (2027-01-31) or `never`.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// File the secret in folder PATH (which must exist; see `secretctl folder create`).
    #[arg(long, value_name = "PATH", conflicts_with = "no_folder")]
    pub folder: Option<String>,
    /// Take the secret out of its folder.
    #[arg(long)]
    pub no_folder: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Name of the secret.
    #[arg(value_name = "KEY", add = ArgValueCompleter::new(crate::completion::keys))]
    pub key: String,
    /// Print the notes, URL, tags and dates after the value.
    #[arg(long)]
    pub show_metadata: bool,
    /// Print a masked value and its length bucket instead of the value.
    #[arg(long, conflicts_with_all = ["field", "fields"])]
    pub masked: bool,
    /// Print the value of field NAME.
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// List the fields: non-sensitive values in full, sensitive ones masked.
    #[arg(long, conflicts_with = "field")]
    pub fields: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show only secrets tagged TAG.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Show only secrets expiring within DURATION (expired ones included).
    #[arg(long, value_name = "DURATION")]
    pub expiring: Option<String>,
    /// Show only secrets in folder PATH or a folder below it.
    #[arg(long, value_name = "PATH")]
    pub folder: Option<String>,
    /// Show tags, expiry, update time and folder in columns.
    #[arg(short, long)]
    pub long: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Name of the secret.
    #[arg(value_name = "KEY", add = ArgValueCompleter::new(crate::completion::keys))]
    pub key: String,
    /// Delete without asking for confirmation.
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Inject the secrets matching PATTERN (a key or a glob; repeatable).
    #[arg(short = 'k', long = "key", value_name = "PATTERN", add = ArgValueCompleter::new(crate::completion::keys))]
    pub keys: Vec<String>,
    /// Also inject the variables of FILE, whose values may be secretctl:// references.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Put PREFIX in front of every derived variable name.
    #[arg(long, value_name = "PREFIX")]
    pub env_prefix: Option<String>,
    /// Map keys through the env_aliases entry ALIAS of the policy file.
    #[arg(long = "env", value_name = "ALIAS")]
    pub env_alias: Option<String>,
    /// Stop the command after DURATION (TERM to its process group, KILL 5 s later).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Pass the command's output through without redaction.
    #[arg(long)]
    pub no_sanitize: bool,
    /// The command and its arguments (after --).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Redact the values of the secrets matching PATTERN (repeatable).
    #[arg(short = 'k', long = "key", value_name = "PATTERN", required = true)]
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Env,
    Json,
    Yaml,
    Shell,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export the secrets matching PATTERN (repeatable; default: all).
    #[arg(short = 'k', long = "key", value_name = "PATTERN")]
    pub keys: Vec<String>,
    /// Write FORMAT.
    #[arg(long, value_name = "FORMAT", default_value = "env")]
    pub format: ExportFormat,
    /// Write to FILE (created 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportFormat {
    Env,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    Skip,
    Overwrite,
    Error,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Read secrets from FILE (a directory for --from secretctl-go).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Read FORMAT (default: from the file name; .env otherwise).
    #[arg(long, value_name = "FORMAT", conflicts_with = "from")]
    pub format: Option<ImportFormat>,
    /// Convert an export of SOURCE, or read a vault of the original Go secretctl.
    #[arg(long, value_name = "SOURCE", value_parser = ["1password", "bitwarden", "lastpass", "keepassxc", "secretctl-go"])]
    pub from: Option<String>,
    /// Read the secretctl-go vault's master password from FILE instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub source_password_file: Option<PathBuf>,
    /// Handle a key that exists already by POLICY.
    #[arg(long, value_name = "POLICY", default_value = "error")]
    pub on_conflict: OnConflict,
    /// Show what would happen, conflicts included, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Tag every imported secret with TAG (repeatable).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group = ArgGroup::new("target").args(["output", "stdout", "generate_key_file"]).required(true))]
pub struct BackupArgs {
    /// Write the backup to FILE (0600, renamed into place only when complete).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the backup to stdout.
    #[arg(long)]
    pub stdout: bool,
    /// Encrypt with a separate backup password instead of the master password (typed twice, or
    /// from $SECRETCTL_BACKUP_PASSWORD_FILE or $SECRETCTL_BACKUP_PASSWORD).
    #[arg(long, conflicts_with = "key_file")]
    pub backup_password: bool,
    /// Read the backup password from FILE (implies --backup-password).
    #[arg(long, value_name = "FILE", conflicts_with = "key_file")]
    pub backup_password_file: Option<PathBuf>,
    /// Encrypt with the 32-byte key in FILE instead of a password.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Include the audit log.
    #[arg(long)]
    pub with_audit: bool,
    /// Replace FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
    /// Write 32 random bytes to FILE (0600, never over an existing file) for --key-file, and
    /// stop.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["backup_password", "backup_password_file", "key_file", "with_audit"]
    )]
    pub generate_key_file: Option<PathBuf>,
    /// Print JSON.
    #[arg(long, conflicts_with = "stdout")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Read the backup from FILE.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check the whole backup (password, every byte, every secret) and change nothing.
    #[arg(long, conflicts_with_all = ["dry_run", "replace", "with_audit", "on_conflict"])]
    pub verify_only: bool,
    /// Show exactly what would happen, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Handle a key that exists already by POLICY when merging.
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "error",
        conflicts_with = "replace"
    )]
    pub on_conflict: OnConflict,
    /// Replace the whole vault with the backup's, keeping the current one as
    /// vault.db.pre-restore-TIME.
    #[arg(long)]
    pub replace: bool,
    /// Restore the backup's audit log as the vault's log (needs --replace).
    #[arg(long, requires = "replace")]
    pub with_audit: bool,
    /// Decrypt with the 32-byte key in FILE.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Read the backup's password from FILE (default: $SECRETCTL_BACKUP_PASSWORD_FILE).
    #[arg(long, value_name = "FILE", conflicts_with = "key_file")]
    pub backup_password_file: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// Read the template from FILE.
    #[arg(short = 'i', long = "in-file", value_name = "FILE")]
    pub input: PathBuf,
    /// Write to FILE (created 0600) instead of stdout.
    #[arg(short, long = "out-file", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Lock after DURATION without use.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub ttl: String,
    /// Lock after DURATION at the latest, in use or not.
    #[arg(long, value_name = "DURATION", default_value = "8h")]
    pub max: String,
    /// Let plaintext reads (get KEY, inject to stdout) through the agent for DURATION.
    #[arg(long, value_name = "DURATION")]
    pub allow_reveal: Option<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Make each password N characters long.
    #[arg(short = 'l', long, value_name = "N", default_value_t = secretctl_core::generate::DEFAULT_LENGTH)]
    pub length: usize,
    /// Make N passwords, one per line.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 1)]
    pub count: usize,
    /// Leave out symbols (printable ASCII punctuation).
    #[arg(long)]
    pub no_symbols: bool,
    /// Leave out digits.
    #[arg(long)]
    pub no_digits: bool,
    /// Leave out upper-case letters.
    #[arg(long)]
    pub no_uppercase: bool,
    /// Leave out lower-case letters.
    #[arg(long)]
    pub no_lowercase: bool,
    /// Never use any of the characters in CHARS.
    #[arg(long, value_name = "CHARS")]
    pub exclude: Option<String>,
    /// Make a passphrase of N words from the EFF large word list instead of characters.
    #[arg(
        long,
        value_name = "N",
        conflicts_with_all = ["length", "no_symbols", "no_digits", "no_uppercase", "no_lowercase", "exclude"]
    )]
    pub words: Option<usize>,
    /// Join the words with SEP (default: -).
    #[arg(long, value_name = "SEP", requires = "words")]
    pub separator: Option<String>,
    /// Copy the password to the clipboard, cleared after 30 s, instead of printing it.
    #[arg(long, conflicts_with = "json")]
    pub copy: bool,
    /// Print the password as well when copying it.
    #[arg(long, requires = "copy")]
    pub print: bool,
    /// Print JSON, with the entropy of each password in bits.
    #[arg(long)]
    pub json: bool,
}

/// A section of the security report: reused values, weak values, or expired and expiring
/// secrets. (No doc comments on the variants: they would turn `--help` into its long form.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecuritySection {
    Duplicates,
    Weak,
    Expiring,
}

#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// Show only SECTION of the report: reused values, weak values, or expired and expiring
    /// secrets.
    #[arg(value_name = "SECTION")]
    pub section: Option<SecuritySection>,
    /// Count secrets that expire within DURATION as expiring.
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub expiring_within: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClipboardHoldArgs {
    /// Clear the clipboard after SECONDS.
    #[arg(long, value_name = "SECONDS")]
    pub seconds: u64,
}

#[derive(Debug, Args)]
pub struct AgentServeArgs {
    /// Idle timeout in seconds.
    #[arg(long)]
    pub ttl: u64,
    /// Maximum lifetime in seconds.
    #[arg(long)]
    pub max: u64,
    /// Plaintext-read window in seconds (0: none).
    #[arg(long, default_value_t = 0)]
    pub allow_reveal: u64,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit records, oldest first.
    List(AuditListArgs),
    /// Verify the audit chain and print its head hash.
    Verify(JsonArg),
    /// Export audit records as JSON or CSV.
    Export(AuditExportArgs),
    /// Remove old records, leaving a checkpoint so the chain still verifies.
    Prune(AuditPruneArgs),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Pin the policy's commands and approve it (always asks for the master password).
    Approve(PolicyApproveArgs),
    /// Show the policy, whether it is approved and whether its binaries changed.
    Show(JsonArg),
    /// Validate the policy and flag risky entries, or explain the decision for a command line.
    Check(PolicyCheckArgs),
    /// Edit the policy in $EDITOR (else vi), then approve it.
    Edit(PolicyApproveArgs),
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Add secretctl's MCP server to an AI client's configuration (with a backup of it).
    Install(McpInstallArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum McpClient {
    /// Claude Code (~/.claude.json).
    ClaudeCode,
    /// Claude Desktop (claude_desktop_config.json).
    ClaudeDesktop,
    /// Cursor (~/.cursor/mcp.json).
    Cursor,
}

#[derive(Debug, Args)]
pub struct McpInstallArgs {
    /// Configure CLIENT.
    #[arg(long, value_enum, value_name = "CLIENT")]
    pub client: McpClient,
    /// Write the configuration to FILE instead of the client's usual place.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the change without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum FolderCommand {
    /// Create folder PATH and any missing folder above it.
    Create(FolderPathArg),
    /// List every folder with the number of secrets and folders in it.
    List(JsonArg),
    /// Show one folder.
    Info(FolderInfoArgs),
    /// Rename a folder in place.
    Rename(FolderRenameArgs),
    /// Move a folder, with its contents, into another folder or to the top level.
    Move(FolderMoveArgs),
    /// Delete a folder; its secrets are never deleted.
    Delete(FolderDeleteArgs),
}

#[derive(Debug, Args)]
pub struct FolderPathArg {
    /// The folder, e.g. Work/AWS.
    #[arg(value_name = "PATH")]
    pub path: String,
}

#[derive(Debug, Args)]
pub struct FolderInfoArgs {
    /// The folder, e.g. Work/AWS.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FolderRenameArgs {
    /// The folder, e.g. Work/AWS.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Its new name (one name, no '/').
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct FolderMoveArgs {
    /// The folder to move, e.g. Work/AWS.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Move it into folder PARENT, or to the top level when PARENT is `/`.
    #[arg(long, value_name = "PARENT")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct FolderDeleteArgs {
    /// The folder, e.g. Work/AWS.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Also delete a folder holding secrets or folders (its secrets are kept, out of any folder).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PolicyApproveArgs {
    /// Approve without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// Explain the decision for this command line (after `--`) instead of checking the file.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct AuditFilterArgs {
    /// Show records from the last DURATION only.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Show records of ACTION only.
    #[arg(long, value_name = "ACTION", value_parser = secretctl_core::audit::Action::NAMES)]
    pub action: Option<String>,
    /// Show records from SOURCE only.
    #[arg(long, value_name = "SOURCE", value_parser = ["cli", "mcp", "desktop", "agent"])]
    pub source: Option<String>,
    /// Show records about KEY only.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditListArgs {
    #[command(flatten)]
    pub filter: AuditFilterArgs,
    /// Show the last N records.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuditFormat {
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    #[command(flatten)]
    pub filter: AuditFilterArgs,
    /// Write FORMAT.
    #[arg(long, value_name = "FORMAT", default_value = "json")]
    pub format: AuditFormat,
    /// Write to FILE (created 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AuditPruneArgs {
    /// Remove records older than DURATION (e.g. 90d).
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Change the master password (re-wraps the data key; no secret is re-encrypted).
    Change(PasswordChangeArgs),
}

#[derive(Debug, Args)]
pub struct PasswordChangeArgs {
    /// Read the new master password from FILE instead of prompting twice.
    #[arg(long, value_name = "FILE")]
    pub new_password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write secretctl.1 and a page per subcommand into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Print the script for SHELL.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
    /// Print a self-contained script (commands and flags only, no key names).
    #[arg(long = "static")]
    pub static_script: bool,
}

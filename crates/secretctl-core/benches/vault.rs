//! Benchmarks of the vault core (issue: "Figures to record in docs/benchmarks.md").
//!
//! A plain `harness = false` program: it prints the machine, the date and a table of figures
//! (count, median, p95, min, max). It asserts nothing about timing; it only checks that the
//! operations it times succeed (and that the audit chain verifies).
//!
//! Run: `cargo bench -p secretctl-core --bench vault` (the bench profile inherits `release`),
//! or the whole measurement with `bench/vault.sh`.
//!
//! Sizes shrink with environment variables, for a quick smoke run:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BENCH_KDF_RUNS` | 20 | timed `derive_master_key` calls (after one warm-up), each paired with one run of the reference `argon2` CLI when it is installed |
//! | `BENCH_SECRETS` | 10000 | secrets in the large vault |
//! | `BENCH_OPS` | 300 | timed `get` and `set` (update) calls on the large vault |
//! | `BENCH_LIST_RUNS` | 20 | timed `list` calls on the large vault |
//! | `BENCH_VALUE_BYTES` | 40 | size of each secret value |
//! | `BENCH_AUDIT` | 100000 | audit records in the small vault before `audit verify` |
//! | `BENCH_VERIFY_RUNS` | 5 | timed `audit verify` calls |
//! | `BENCH_DIR` | system temp dir | the disk under test: the secrets vault, and the audit vault while it is verified |
//! | `BENCH_AUDIT_FILL_DIR` | `/dev/shm` if it is a tmpfs, else `BENCH_DIR` | where the audit log is filled (see below) |
//! | `BENCH_ARGON2` | `argon2` | the reference Argon2 CLI (Debian package `argon2`); `none` skips it |
//! | `BENCH_RESULTS` | unset | also write the figures as TSV to this file |
//!
//! Every figure is wall-clock time of one call, measured with `Instant`, on one thread.
//!
//! The audit log is filled with cheap operations (`get_masked` of one secret) on a tmpfs: on
//! this kind of disk each operation pays two to three fsyncs, and 100,000 of them would take
//! longer than the whole run may. Filling is not what is measured: the filled vault is then
//! copied to `BENCH_DIR` (the disk under test), reopened, and `audit verify` is timed there. The
//! cost of one audited operation on the disk is measured in the secrets section.

use secretctl_core::audit::Source;
use secretctl_core::crypto::{self, KdfParams, Passphrase};
use secretctl_core::secret::{KeyName, SecretUpdate, SecretValue};
use secretctl_core::vault::{ListFilter, Session, Vault, VaultDir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSWORD: &[u8] = b"bench-master-password";
/// The same inputs as the reference CLI run in `bench/vault.sh`:
/// `echo -n password | argon2 somesaltsomesalt -id -t 3 -m 16 -p 4 -l 32 -r`.
const KDF_PASSWORD: &[u8] = b"password";
const KDF_SALT: &[u8; crypto::SALT_LEN] = b"somesaltsomesalt";

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("bench: {name}={v:?} is not a number");
            std::process::exit(2)
        }),
        Err(_) => default,
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Fails the run (with a message) when an operation that is timed does not succeed.
fn must<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("bench: {what} failed: {e}");
        std::process::exit(1)
    })
}

fn password() -> Passphrase {
    Passphrase::new(PASSWORD.to_vec())
}

fn key(i: usize) -> KeyName {
    must(
        "key name",
        KeyName::parse(&format!("bench/app-{:03}/secret-{i:06}", i % 100)),
    )
}

fn value(i: usize, round: usize) -> SecretValue {
    // 40 bytes by default, a typical API token; BENCH_VALUE_BYTES pads it (a certificate, a key).
    let mut text = format!("tok_{round:04}_{i:08}_abcdefghijklmnopqrstuvw").into_bytes();
    let want = env_usize("BENCH_VALUE_BYTES", 40);
    text.resize(want.max(text.len()), b'x');
    must("value", SecretValue::new(text))
}

fn update(i: usize, round: usize) -> SecretUpdate {
    SecretUpdate {
        value: Some(value(i, round)),
        ..Default::default()
    }
}

/// A small deterministic generator (xorshift64*), so that reads hit keys in no particular order
/// and every run reads the same ones.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// One row of the results table.
struct Figure {
    name: String,
    count: usize,
    median: Duration,
    p95: Duration,
    min: Duration,
    max: Duration,
    /// Sum of all samples (for fills, the total time).
    total: Duration,
}

fn figure(name: &str, mut samples: Vec<Duration>) -> Figure {
    assert!(!samples.is_empty(), "{name}: no samples");
    samples.sort();
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    };
    // Nearest-rank p95.
    let rank = (n * 95).div_ceil(100).max(1);
    Figure {
        name: name.to_owned(),
        count: n,
        median,
        p95: samples[rank - 1],
        min: samples[0],
        max: samples[n - 1],
        total: samples.iter().sum(),
    }
}

/// A one-shot figure (a fill): the total is the figure.
fn once(name: &str, took: Duration, count: usize) -> Figure {
    Figure {
        name: name.to_owned(),
        count,
        median: took,
        p95: took,
        min: took,
        max: took,
        total: took,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

struct Report {
    figures: Vec<Figure>,
    /// Dimensionless results (name, value), written to the TSV as `ratio` rows.
    ratios: Vec<(String, f64)>,
}

impl Report {
    fn add(&mut self, f: Figure) {
        // Print each figure as soon as it exists, so a long run shows progress.
        println!(
            "  {:<52} {:>7} {:>11} {:>11} {:>11} {:>11}",
            f.name,
            f.count,
            ms(f.median),
            ms(f.p95),
            ms(f.min),
            ms(f.max)
        );
        let _ = std::io::stdout().flush();
        self.figures.push(f);
    }

    fn note(&self, text: &str) {
        println!("  # {text}");
        let _ = std::io::stdout().flush();
    }
}

fn first_line_with(path: &str, prefix: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// The file system holding `path`, from /proc/self/mounts (longest matching mount point).
fn filesystem_of(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut best: Option<(usize, String)> = None;
    for line in mounts.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 3 {
            continue;
        }
        let (dev, mnt, fs) = (parts[0], parts[1], parts[2]);
        if path.starts_with(mnt) && best.as_ref().is_none_or(|(len, _)| mnt.len() > *len) {
            best = Some((mnt.len(), format!("{fs} ({dev} on {mnt})")));
        }
    }
    best.map(|(_, s)| s).unwrap_or_else(|| "unknown".into())
}

fn print_machine(secrets_base: &Path, audit_base: &Path) {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = first_line_with("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let mem = first_line_with("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    println!("secretctl-core vault benchmark");
    println!(
        "  date:        {}",
        jiff::Timestamp::now().round(jiff::Unit::Second).unwrap()
    );
    println!("  cpus:        {cpus} (nproc)");
    println!("  cpu model:   {model}");
    println!("  memory:      {mem}");
    println!("  kernel:      {kernel}");
    println!("  load avg:    {} (at start)", load_average());
    println!(
        "  disk under test: {} — {}",
        secrets_base.display(),
        filesystem_of(secrets_base)
    );
    println!(
        "  audit fill dir:  {} — {}",
        audit_base.display(),
        filesystem_of(audit_base)
    );
    println!();
}

/// The 1, 5 and 15 minute load averages: other work on the machine shows up in every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Filesystem baseline: what one durable small-file replace costs here (write, fsync, rename,
/// fsync of the directory), the pattern `vault.meta` is written with after every operation.
fn bench_fs_baseline(report: &mut Report, base: &Path, runs: usize) {
    let dir = must(
        "temp dir",
        tempfile::Builder::new()
            .prefix("secretctl-fs-")
            .tempdir_in(base),
    );
    let target = dir.path().join("meta.json");
    let content = vec![b'x'; 400];
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut tmp = must("tempfile", tempfile::NamedTempFile::new_in(dir.path()));
        must("write", tmp.write_all(&content));
        must("fsync", tmp.as_file().sync_all());
        must("persist", tmp.persist(&target).map_err(|e| e.error));
        must(
            "fsync dir",
            std::fs::File::open(dir.path()).and_then(|d| d.sync_all()),
        );
        samples.push(t.elapsed());
    }
    report.add(figure("fs: durable small-file replace (baseline)", samples));
}

/// SQLite baseline: one small-row INSERT committed with the vault's settings (WAL,
/// `synchronous = FULL`), i.e. the durable commit every audited operation pays once.
fn bench_sqlite_baseline(report: &mut Report, base: &Path, runs: usize) {
    let dir = must(
        "temp dir",
        tempfile::Builder::new()
            .prefix("secretctl-sql-")
            .tempdir_in(base),
    );
    let conn = must(
        "sqlite open",
        rusqlite::Connection::open(dir.path().join("t.db")),
    );
    must(
        "pragma",
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())),
    );
    must(
        "pragma",
        conn.execute_batch(
            "PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        ),
    );
    let blob = vec![7u8; 300];
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        must(
            "sqlite commit",
            conn.execute_batch("BEGIN IMMEDIATE")
                .and_then(|_| conn.execute("INSERT INTO t (v) VALUES (?1)", [&blob]))
                .and_then(|_| conn.execute_batch("COMMIT")),
        );
        samples.push(t.elapsed());
    }
    report.add(figure(
        "sqlite: 1-row commit, WAL, sync=FULL (baseline)",
        samples,
    ));
}

/// One run of the reference CLI at the seed parameters, as `bench/vault.sh` runs it:
/// `echo -n password | argon2 somesaltsomesalt -id -t 3 -m 16 -p 4 -l 32 -r`.
fn argon2_cli(program: &str) -> std::io::Result<Duration> {
    use std::process::{Command, Stdio};
    let t = Instant::now();
    let mut child = Command::new(program)
        .args([
            "somesaltsomesalt",
            "-id",
            "-t",
            "3",
            "-m",
            "16",
            "-p",
            "4",
            "-l",
            "32",
            "-r",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(KDF_PASSWORD)?;
    let out = child.wait_with_output()?;
    let took = t.elapsed();
    if !out.status.success() || out.stdout.len() < 64 {
        return Err(std::io::Error::other(format!(
            "{program} exited with {} and printed {} bytes",
            out.status,
            out.stdout.len()
        )));
    }
    Ok(took)
}

fn bench_kdf(report: &mut Report, runs: usize) {
    let pw = Passphrase::new(KDF_PASSWORD.to_vec());
    let derive = || {
        let t = Instant::now();
        let key = must(
            "derive_master_key",
            crypto::derive_master_key(&pw, KDF_SALT, &KdfParams::SEED),
        );
        let took = t.elapsed();
        drop(key);
        took
    };
    // One warm-up call: the first one also pays for starting the thread pool and faulting
    // in 64 MiB of fresh pages.
    let first = derive();
    report.add(once("kdf: derive_master_key, first call", first, 1));

    let program = std::env::var("BENCH_ARGON2").unwrap_or_else(|_| "argon2".into());
    let cli = (program != "none")
        .then(|| {
            argon2_cli(&program)
                .map_err(|e| report.note(&format!("argon2 CLI skipped: {e}")))
                .ok()
        })
        .flatten()
        .map(|_| program);
    let mut lib = Vec::with_capacity(runs);
    let mut reference = Vec::with_capacity(runs);
    let mut ratios = Vec::with_capacity(runs);
    for i in 0..runs {
        // Paired and alternated, so that load from other processes drifting over the run hits
        // both sides alike.
        let (a, b) = match &cli {
            None => (derive(), None),
            Some(p) if i % 2 == 0 => {
                let a = derive();
                (a, Some(must("argon2 CLI", argon2_cli(p))))
            }
            Some(p) => {
                let b = must("argon2 CLI", argon2_cli(p));
                (derive(), Some(b))
            }
        };
        lib.push(a);
        if let Some(b) = b {
            reference.push(b);
            ratios.push(a.as_secs_f64() / b.as_secs_f64());
        }
    }
    let lib = figure("kdf: derive_master_key (m=64MiB t=3 p=4)", lib);
    let lib_median = lib.median;
    report.add(lib);
    if !reference.is_empty() {
        let reference = figure("kdf: argon2 CLI, paired (process)", reference);
        let ratio_of_medians = lib_median.as_secs_f64() / reference.median.as_secs_f64();
        report.add(reference);
        ratios.sort_by(f64::total_cmp);
        let n = ratios.len();
        let median_ratio = if n % 2 == 1 {
            ratios[n / 2]
        } else {
            (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0
        };
        report.note(&format!(
            "kdf ratio secretctl / argon2 CLI: {ratio_of_medians:.2}x (of medians), \
             {median_ratio:.2}x (median of {n} paired ratios)"
        ));
        report
            .ratios
            .push(("kdf ratio, medians".into(), ratio_of_medians));
        report
            .ratios
            .push(("kdf ratio, paired median".into(), median_ratio));
    }
}

fn open_session(dir: &VaultDir) -> (Session, Duration) {
    let t = Instant::now();
    let vault = must("Vault::open", Vault::open(dir));
    let session = must("unlock", vault.unlock(&password(), Source::Cli));
    (session, t.elapsed())
}

fn bench_secrets(report: &mut Report, base: &Path, n: usize, ops: usize, list_runs: usize) {
    let tmp = must(
        "temp dir",
        tempfile::Builder::new()
            .prefix("secretctl-bench-")
            .tempdir_in(base),
    );
    let dir = VaultDir::new(tmp.path().join("vault"));
    let t = Instant::now();
    must("Vault::init", Vault::init(&dir, &password()));
    report.add(once("init (KDF + create files)", t.elapsed(), 1));

    // Fill: one `set` per secret, each its own transaction, as a user or an import-free script
    // would. Every call is timed, so the fill also gives the latency of creating a secret.
    let (mut session, _) = open_session(&dir);
    let mut creates = Vec::with_capacity(n);
    let fill = Instant::now();
    for i in 0..n {
        let (name, change) = (key(i), update(i, 0));
        let t = Instant::now();
        must("set (create)", session.set(&name, change, Source::Cli));
        creates.push(t.elapsed());
    }
    let fill = fill.elapsed();
    drop(session);
    report.add(once(&format!("fill: {n} x set (create), total"), fill, n));
    report.add(figure("set (create), during the fill", creates));

    let (mut session, unlock) = open_session(&dir);
    report.add(once(&format!("open + unlock ({n} secrets)"), unlock, 1));

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut gets = Vec::with_capacity(ops);
    for _ in 0..ops {
        let i = rng.below(n);
        let name = key(i);
        let t = Instant::now();
        let secret = must("get", session.get(&name, Source::Cli));
        gets.push(t.elapsed());
        let stored = secret.field("value").map(|f| f.value.expose_bytes());
        if stored != Some(value(i, 0).expose_bytes()) {
            eprintln!("bench: get {name} returned a wrong value");
            std::process::exit(1);
        }
    }
    report.add(figure(&format!("get ({n} secrets)"), gets));

    let mut masked = Vec::with_capacity(ops);
    for _ in 0..ops {
        let name = key(rng.below(n));
        let t = Instant::now();
        must("get_masked", session.get_masked(&name, Source::Cli));
        masked.push(t.elapsed());
    }
    report.add(figure(&format!("get_masked ({n} secrets)"), masked));

    let mut sets = Vec::with_capacity(ops);
    for round in 1..=ops {
        let i = rng.below(n);
        let (name, change) = (key(i), update(i, round));
        let t = Instant::now();
        must("set (update)", session.set(&name, change, Source::Cli));
        sets.push(t.elapsed());
    }
    report.add(figure(&format!("set (update value, {n} secrets)"), sets));

    let mut lists = Vec::with_capacity(list_runs);
    for _ in 0..list_runs {
        let t = Instant::now();
        let all = must("list", session.list(&ListFilter::default(), Source::Cli));
        lists.push(t.elapsed());
        if all.len() != n {
            eprintln!("bench: list returned {} secrets, expected {n}", all.len());
            std::process::exit(1);
        }
    }
    report.add(figure(&format!("list ({n} secrets)"), lists));
    drop(session);
    report.note(&format!(
        "vault.db after the run: {:.1} MiB",
        std::fs::metadata(dir.db()).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
    ));
}

/// Copies a closed vault (its three files) into a new private directory under `base`.
fn copy_vault(from: &VaultDir, base: &Path) -> (tempfile::TempDir, VaultDir) {
    use std::os::unix::fs::DirBuilderExt;
    let tmp = must(
        "temp dir",
        tempfile::Builder::new()
            .prefix("secretctl-audit-")
            .tempdir_in(base),
    );
    let root = tmp.path().join("vault");
    must(
        "mkdir",
        std::fs::DirBuilder::new().mode(0o700).create(&root),
    );
    let to = VaultDir::new(root);
    for (src, dst) in [
        (from.db(), to.db()),
        (from.salt(), to.salt()),
        (from.meta(), to.meta()),
    ] {
        // std::fs::copy keeps the 0600 mode.
        must("copy vault file", std::fs::copy(src, &dst));
        must(
            "fsync copy",
            std::fs::File::open(&dst).and_then(|f| f.sync_all()),
        );
    }
    (tmp, to)
}

fn bench_audit(report: &mut Report, fill_base: &Path, base: &Path, records: usize, runs: usize) {
    let fill_tmp = must(
        "temp dir",
        tempfile::Builder::new()
            .prefix("secretctl-audit-fill-")
            .tempdir_in(fill_base),
    );
    let fill_dir = VaultDir::new(fill_tmp.path().join("vault"));
    must("Vault::init", Vault::init(&fill_dir, &password()));
    let (mut session, _) = open_session(&fill_dir);
    let name = key(0);
    must("set", session.set(&name, update(0, 0), Source::Cli));
    // genesis + set = 2 records; every get_masked adds one.
    let ops = records.saturating_sub(2);
    let mut samples = Vec::with_capacity(ops);
    let fill = Instant::now();
    let mut last_note = Instant::now();
    for i in 0..ops {
        let t = Instant::now();
        must("get_masked", session.get_masked(&name, Source::Cli));
        samples.push(t.elapsed());
        if last_note.elapsed() > Duration::from_secs(30) {
            eprintln!("bench: audit fill {}/{ops}", i + 1);
            last_note = Instant::now();
        }
    }
    let fill = fill.elapsed();
    // Closing the last connection checkpoints the WAL into vault.db.
    drop(session);
    let fs = filesystem_of(fill_base);
    let fs = fs.split_whitespace().next().unwrap_or("?");
    report.add(once(
        &format!("fill: {ops} x get_masked on {fs}, total"),
        fill,
        ops,
    ));
    if !samples.is_empty() {
        report.add(figure(
            &format!("get_masked (1 secret, on {fs}), during the fill"),
            samples,
        ));
    }

    // Verify on the disk under test (unless the fill already happened there).
    let same_place = fill_base.canonicalize().ok() == base.canonicalize().ok();
    let (_verify_tmp, dir) = if same_place {
        (None, fill_dir.clone())
    } else {
        let (tmp, dir) = copy_vault(&fill_dir, base);
        (Some(tmp), dir)
    };
    let (mut session, _) = open_session(&dir);
    let mut verifies = Vec::with_capacity(runs);
    let mut verified = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let v = must("audit_verify", session.audit_verify(Source::Cli));
        verifies.push(t.elapsed());
        if !v.is_ok() {
            eprintln!(
                "bench: the audit chain does not verify: {}",
                v.problem.unwrap_or_default()
            );
            std::process::exit(1);
        }
        verified = v.records;
    }
    report.add(figure(
        &format!("audit verify ({verified} records)"),
        verifies,
    ));
    drop(session);
    report.note(&format!(
        "audit vault.db: {:.1} MiB, verified in {}",
        std::fs::metadata(dir.db()).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0,
        dir.root().display()
    ));
}

fn write_tsv(path: &Path, figures: &[Figure], ratios: &[(String, f64)]) {
    let mut out = String::from("figure\tcount\tmedian_ms\tp95_ms\tmin_ms\tmax_ms\ttotal_ms\n");
    for f in figures {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            f.name,
            f.count,
            ms(f.median),
            ms(f.p95),
            ms(f.min),
            ms(f.max),
            ms(f.total)
        ));
    }
    for (name, r) in ratios {
        out.push_str(&format!("{name}\tratio\t{r:.3}\t\t\t\t\n"));
    }
    must("write BENCH_RESULTS", std::fs::write(path, out));
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter this program ignores.
    let kdf_runs = env_usize("BENCH_KDF_RUNS", 20).max(1);
    let secrets = env_usize("BENCH_SECRETS", 10_000).max(1);
    let ops = env_usize("BENCH_OPS", 300).max(1);
    let list_runs = env_usize("BENCH_LIST_RUNS", 20).max(1);
    let audit_records = env_usize("BENCH_AUDIT", 100_000).max(3);
    let verify_runs = env_usize("BENCH_VERIFY_RUNS", 5).max(1);
    let secrets_base = env_path("BENCH_DIR").unwrap_or_else(std::env::temp_dir);
    let audit_fill_base = env_path("BENCH_AUDIT_FILL_DIR").unwrap_or_else(|| {
        let shm = PathBuf::from("/dev/shm");
        if filesystem_of(&shm).starts_with("tmpfs") {
            shm
        } else {
            secrets_base.clone()
        }
    });

    print_machine(&secrets_base, &audit_fill_base);
    println!(
        "  {:<52} {:>7} {:>11} {:>11} {:>11} {:>11}",
        "figure (wall-clock per call)", "count", "median ms", "p95 ms", "min ms", "max ms"
    );
    let mut report = Report {
        figures: Vec::new(),
        ratios: Vec::new(),
    };
    bench_fs_baseline(&mut report, &secrets_base, 50);
    bench_sqlite_baseline(&mut report, &secrets_base, 50);
    bench_kdf(&mut report, kdf_runs);
    bench_secrets(&mut report, &secrets_base, secrets, ops, list_runs);
    bench_audit(
        &mut report,
        &audit_fill_base,
        &secrets_base,
        audit_records,
        verify_runs,
    );
    report.note("fills: one timed run; median = p95 = min = max = the total");
    report.note(&format!("load avg at the end: {}", load_average()));

    if let Some(path) = env_path("BENCH_RESULTS") {
        write_tsv(&path, &report.figures, &report.ratios);
    }
}

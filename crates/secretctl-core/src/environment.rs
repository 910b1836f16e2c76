//! Environment variables made from secrets (SPEC §5.1): their names, the names that are
//! refused because they would change how the child runs, and collisions.
//!
//! A plain secret `aws/prod-key` becomes `AWS_PROD_KEY` (upper-cased, `/`, `-` and `.` turned
//! into `_`, then the prefix). A multi-field secret contributes its bindings as named, or
//! `KEY_FIELD` for every field when it has none. A prefix applies to derived names only, not
//! to explicit bindings: a binding names the exact variable a tool reads (`PGPASSWORD`).

use crate::secret::{InputError, Secret, SecretValue, is_env_name, shown};

/// A variable to inject.
pub struct EnvVar<'a> {
    /// Its name.
    pub name: String,
    /// The secret it comes from.
    pub key: &'a str,
    /// The field it comes from.
    pub field: &'a str,
    /// The value.
    pub value: &'a SecretValue,
    /// Whether the field is sensitive (only sensitive values are redacted from output).
    pub sensitive: bool,
}

/// A refused environment-variable name (SPEC §5.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvNameError {
    /// The name is empty.
    #[error("environment variable name is empty")]
    Empty,
    /// Not of the form `[A-Z_][A-Z0-9_]*`.
    #[error(
        "environment variable name {name:?} is not of the form [A-Z_][A-Z0-9_]* (rename the key, bind the field to another name, or use --env-prefix)"
    )]
    Malformed {
        /// The name.
        name: String,
    },
    /// A name that would change how the child runs.
    #[error(
        "environment variable {name} is refused: it {reason} (bind the field to another name, or use --env-prefix for names derived from keys)"
    )]
    Refused {
        /// The name.
        name: String,
        /// Why, as the end of a sentence starting "it …".
        reason: &'static str,
    },
    /// The name a secret gives is refused or malformed.
    #[error("secret '{key}': {source}")]
    ForKey {
        /// The secret (and field).
        key: String,
        /// Why.
        #[source]
        source: Box<EnvNameError>,
    },
    /// Two keys map to one name.
    #[error("keys {first:?} and {second:?} both map to environment variable {name}")]
    Collision {
        /// The shared name.
        name: String,
        /// The first key.
        first: String,
        /// The second key.
        second: String,
    },
}

/// The variable name derived from a key (and field): upper-cased, `/`, `-`, `.` → `_`.
pub fn env_name(key: &str, field: Option<&str>, prefix: Option<&str>) -> String {
    let mut name = String::from(prefix.unwrap_or(""));
    let mut push = |s: &str| {
        name.extend(s.chars().map(|c| match c {
            '/' | '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        }))
    };
    push(key);
    if let Some(field) = field {
        push("_");
        push(field);
    }
    name
}

enum Rule {
    Exact(&'static str),
    Prefix(&'static str),
}

const FINDS_PROGRAMS: &str = "decides where programs are found";
const SHELL: &str = "changes how shells start or parse";
const LOADER: &str = "changes which code the dynamic loader or C library loads";
const INTERPRETER: &str = "injects options, code or library paths into an interpreter or toolchain";
const GIT: &str = "changes how git runs, including which programs it starts";
const HELPER: &str = "names a program that other tools start";
const TRUST: &str = "changes which TLS certificates are trusted or how TLS is configured";
const KEYLOG: &str = "makes TLS libraries write session keys to a file";
const PROXY: &str = "could send network traffic through another host";
const CONFIG: &str = "redirects where programs read configuration that can run commands";
const TEMP: &str = "changes where temporary files are written";
const RESERVED: &str = "is reserved for secretctl";

/// Names refused by [`check_env_name`]. Only upper-case names are listed: lower-case ones
/// (`http_proxy`, …) already fail the `[A-Z_][A-Z0-9_]*` rule.
///
/// `TMPDIR` is refused: no key is naturally called that, and a secret there would move every
/// temporary file of the child. `PYTHON*` is a whole prefix because Python reads many such
/// variables (some run code: `PYTHONSTARTUP`, `PYTHONBREAKPOINT`); a key such as
/// `pythonanywhere/token` needs a prefix. `CARGO_*`, `NPM_*`, `RUBYGEMS_*` stay allowed: their
/// tokens are common secrets.
const REFUSED: &[(Rule, &str)] = &[
    (Rule::Exact("PATH"), FINDS_PROGRAMS),
    (Rule::Exact("HOME"), CONFIG),
    (Rule::Exact("SHELL"), SHELL),
    (Rule::Exact("IFS"), SHELL),
    (Rule::Exact("ENV"), SHELL),
    (Rule::Exact("BASH_ENV"), SHELL),
    (Rule::Exact("CDPATH"), SHELL),
    (Rule::Exact("PS4"), SHELL),
    (Rule::Exact("PROMPT_COMMAND"), SHELL),
    (Rule::Exact("SHELLOPTS"), SHELL),
    (Rule::Exact("BASHOPTS"), SHELL),
    (Rule::Exact("GLOBIGNORE"), SHELL),
    (Rule::Exact("ZDOTDIR"), SHELL),
    (Rule::Prefix("BASH_FUNC_"), SHELL),
    (Rule::Prefix("LD_"), LOADER),
    (Rule::Prefix("DYLD_"), LOADER),
    (Rule::Prefix("MALLOC_"), LOADER),
    (Rule::Exact("GLIBC_TUNABLES"), LOADER),
    (Rule::Exact("GCONV_PATH"), LOADER),
    (Rule::Exact("LOCPATH"), LOADER),
    (Rule::Exact("NLSPATH"), LOADER),
    (Rule::Exact("HOSTALIASES"), LOADER),
    (Rule::Exact("RES_OPTIONS"), LOADER),
    (Rule::Exact("LOCALDOMAIN"), LOADER),
    (Rule::Exact("NODE_OPTIONS"), INTERPRETER),
    (Rule::Exact("NODE_PATH"), INTERPRETER),
    (Rule::Exact("NODE_REPL_EXTERNAL_MODULE"), INTERPRETER),
    (Rule::Prefix("PYTHON"), INTERPRETER),
    (Rule::Prefix("PERL5"), INTERPRETER),
    (Rule::Exact("PERLLIB"), INTERPRETER),
    (Rule::Exact("RUBYOPT"), INTERPRETER),
    (Rule::Exact("RUBYLIB"), INTERPRETER),
    (Rule::Exact("RUBYPATH"), INTERPRETER),
    (Rule::Exact("RUBYSHELL"), INTERPRETER),
    (Rule::Exact("GEM_HOME"), INTERPRETER),
    (Rule::Exact("GEM_PATH"), INTERPRETER),
    (Rule::Exact("JAVA_TOOL_OPTIONS"), INTERPRETER),
    (Rule::Exact("_JAVA_OPTIONS"), INTERPRETER),
    (Rule::Exact("JDK_JAVA_OPTIONS"), INTERPRETER),
    (Rule::Exact("JAVA_HOME"), INTERPRETER),
    (Rule::Exact("CLASSPATH"), INTERPRETER),
    (Rule::Exact("LUA_INIT"), INTERPRETER),
    (Rule::Exact("LUA_PATH"), INTERPRETER),
    (Rule::Exact("LUA_CPATH"), INTERPRETER),
    (Rule::Exact("PHPRC"), INTERPRETER),
    (Rule::Exact("PHP_INI_SCAN_DIR"), INTERPRETER),
    (Rule::Exact("GOFLAGS"), INTERPRETER),
    (Rule::Exact("RUSTC_WRAPPER"), INTERPRETER),
    (Rule::Exact("RUSTC_WORKSPACE_WRAPPER"), INTERPRETER),
    (Rule::Prefix("GIT_"), GIT),
    (Rule::Exact("EDITOR"), HELPER),
    (Rule::Exact("VISUAL"), HELPER),
    (Rule::Exact("PAGER"), HELPER),
    (Rule::Exact("MANPAGER"), HELPER),
    (Rule::Exact("BROWSER"), HELPER),
    (Rule::Exact("LESSOPEN"), HELPER),
    (Rule::Exact("LESSCLOSE"), HELPER),
    (Rule::Exact("SSH_ASKPASS"), HELPER),
    (Rule::Exact("SUDO_ASKPASS"), HELPER),
    (Rule::Prefix("SSL_CERT_"), TRUST),
    (Rule::Exact("CURL_CA_BUNDLE"), TRUST),
    (Rule::Exact("REQUESTS_CA_BUNDLE"), TRUST),
    (Rule::Exact("NODE_EXTRA_CA_CERTS"), TRUST),
    (Rule::Exact("NODE_TLS_REJECT_UNAUTHORIZED"), TRUST),
    (Rule::Prefix("OPENSSL_"), TRUST),
    (Rule::Exact("SSLKEYLOGFILE"), KEYLOG),
    (Rule::Exact("HTTP_PROXY"), PROXY),
    (Rule::Exact("HTTPS_PROXY"), PROXY),
    (Rule::Exact("ALL_PROXY"), PROXY),
    (Rule::Exact("FTP_PROXY"), PROXY),
    (Rule::Exact("NO_PROXY"), PROXY),
    (Rule::Exact("RSYNC_PROXY"), PROXY),
    (Rule::Exact("XDG_CONFIG_HOME"), CONFIG),
    (Rule::Exact("XDG_CONFIG_DIRS"), CONFIG),
    (Rule::Exact("CURL_HOME"), CONFIG),
    (Rule::Exact("WGETRC"), CONFIG),
    (Rule::Exact("KUBECONFIG"), CONFIG),
    (Rule::Exact("AWS_CONFIG_FILE"), CONFIG),
    (Rule::Exact("SSH_AUTH_SOCK"), CONFIG),
    (Rule::Exact("TMPDIR"), TEMP),
    (Rule::Prefix("SECRETCTL_"), RESERVED),
];

/// Checks that `name` may carry a secret: of the form `[A-Z_][A-Z0-9_]*` and not one of the names
/// that would change how the child runs (loader and interpreter variables, shell startup, trust
/// anchors, proxies, helper programs, `SECRETCTL_*`, …; the list and the reasons are in the
/// source).
pub fn check_env_name(name: &str) -> Result<(), EnvNameError> {
    if name.is_empty() {
        return Err(EnvNameError::Empty);
    }
    if !is_env_name(name) {
        return Err(EnvNameError::Malformed {
            name: name.to_owned(),
        });
    }
    for (rule, reason) in REFUSED {
        let hit = match rule {
            Rule::Exact(n) => name == *n,
            Rule::Prefix(p) => name.starts_with(p),
        };
        if hit {
            return Err(EnvNameError::Refused {
                name: name.to_owned(),
                reason,
            });
        }
    }
    Ok(())
}

/// The variables of one secret.
pub fn secret_vars<'a>(secret: &'a Secret, prefix: Option<&str>) -> Vec<EnvVar<'a>> {
    let key = secret.name.as_str();
    if secret.is_plain() {
        let field = &secret.fields[0];
        return vec![EnvVar {
            name: env_name(key, None, prefix),
            key,
            field: &field.name,
            value: &field.value,
            sensitive: field.sensitive,
        }];
    }
    if !secret.bindings.is_empty() {
        return secret
            .bindings
            .iter()
            .filter_map(|(env, field)| {
                let f = secret.fields.iter().find(|f| &f.name == field)?;
                Some(EnvVar {
                    name: env.clone(),
                    key,
                    field: &f.name,
                    value: &f.value,
                    sensitive: f.sensitive,
                })
            })
            .collect();
    }
    secret
        .fields
        .iter()
        .map(|f| EnvVar {
            name: env_name(key, Some(&f.name), prefix),
            key,
            field: &f.name,
            value: &f.value,
            sensitive: f.sensitive,
        })
        .collect()
}

/// The variables of several secrets, checked: every name valid and not refused, no name twice.
pub fn build<'a>(
    secrets: &'a [Secret],
    prefix: Option<&str>,
) -> Result<Vec<EnvVar<'a>>, EnvNameError> {
    let mut vars: Vec<EnvVar<'a>> = Vec::new();
    for secret in secrets {
        for var in secret_vars(secret, prefix) {
            check_env_name(&var.name).map_err(|e| EnvNameError::ForKey {
                key: describe(&var),
                source: Box::new(e),
            })?;
            if let Some(other) = vars.iter().find(|v| v.name == var.name) {
                return Err(EnvNameError::Collision {
                    first: describe(other),
                    second: describe(&var),
                    name: var.name,
                });
            }
            vars.push(var);
        }
    }
    Ok(vars)
}

fn describe(v: &EnvVar<'_>) -> String {
    if v.field == crate::secret::VALUE_FIELD {
        v.key.to_owned()
    } else {
        format!("{}/{}", v.key, v.field)
    }
}

/// Checks a user-given prefix: it must itself start a valid name.
pub fn check_prefix(prefix: &str) -> Result<(), InputError> {
    if is_env_name(prefix) {
        Ok(())
    } else {
        Err(InputError::Binding {
            shown: shown(prefix),
            rule: "a prefix is upper-case letters, digits and '_', not starting with a digit",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_name_maps_separators_and_case() {
        assert_eq!(env_name("db/password", None, None), "DB_PASSWORD");
        assert_eq!(
            env_name("db/prod-main.password", None, None),
            "DB_PROD_MAIN_PASSWORD"
        );
        assert_eq!(env_name("api/key", None, Some("APP_")), "APP_API_KEY");
        assert_eq!(env_name("my-app.api/key", None, None), "MY_APP_API_KEY");
        assert_eq!(env_name("token", None, Some("CI_")), "CI_TOKEN");
        assert_eq!(env_name("Ünï/x", None, None), "ÜNï_X"); // ASCII only: the result is then refused
        assert!(check_env_name(&env_name("Ünï/x", None, None)).is_err());
    }

    #[test]
    fn check_env_name_accepts_ordinary_names() {
        for name in [
            "DB_PASSWORD",
            "_X",
            "A1",
            "AWS_SECRET_ACCESS_KEY",
            "CARGO_REGISTRY_TOKEN",
            "NPM_TOKEN",
            "GITHUB_TOKEN",
            "PATHX",
            "HOMEPAGE_URL",
            "ENVIRONMENT",
            "NODE_ENV",
        ] {
            assert_eq!(check_env_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn check_env_name_refuses_malformed_names() {
        assert_eq!(check_env_name(""), Err(EnvNameError::Empty));
        for name in [
            "1ABC",
            "lower",
            "A-B",
            "A B",
            "A=B",
            "A\nB",
            "ÄB",
            "A.B",
            "http_proxy",
        ] {
            assert!(
                matches!(check_env_name(name), Err(EnvNameError::Malformed { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn check_env_name_refuses_dangerous_names() {
        for name in [
            "PATH",
            "HOME",
            "SHELL",
            "IFS",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "BASH_ENV",
            "ENV",
            "NODE_OPTIONS",
            "PYTHONPATH",
            "PYTHONSTARTUP",
            "PYTHONHOME",
            "PERL5OPT",
            "PERL5LIB",
            "RUBYOPT",
            "RUBYLIB",
            "GIT_SSH_COMMAND",
            "GIT_DIR",
            "JAVA_TOOL_OPTIONS",
            "_JAVA_OPTIONS",
            "GCONV_PATH",
            "MALLOC_CHECK_",
            "GLIBC_TUNABLES",
            "PROMPT_COMMAND",
            "PS4",
            "CDPATH",
            "TMPDIR",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "CURL_CA_BUNDLE",
            "REQUESTS_CA_BUNDLE",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "SECRETCTL_PASSWORD",
            "OPENSSL_CONF",
            "SSLKEYLOGFILE",
            "EDITOR",
        ] {
            assert!(
                matches!(check_env_name(name), Err(EnvNameError::Refused { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn refused_message_is_one_line_and_explains() {
        let msg = check_env_name("LD_PRELOAD").unwrap_err().to_string();
        assert!(
            msg.contains("LD_PRELOAD") && msg.contains("dynamic loader"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        let msg = check_env_name("A\nB").unwrap_err().to_string();
        assert!(!msg.contains('\n'), "{msg}");
    }

    fn plain(name: &str) -> Secret {
        Secret {
            name: crate::secret::KeyName::parse(name).unwrap(),
            fields: vec![crate::secret::Field::sensitive(
                crate::secret::VALUE_FIELD,
                SecretValue::new(b"v".to_vec()).unwrap(),
            )],
            bindings: Default::default(),
            meta: Default::default(),
        }
    }

    #[test]
    fn collisions_name_both_keys() {
        let secrets = [plain("db/password"), plain("db-password")];
        match build(&secrets, None) {
            Err(EnvNameError::Collision {
                name,
                first,
                second,
            }) => {
                assert_eq!(name, "DB_PASSWORD");
                assert_eq!(
                    (first.as_str(), second.as_str()),
                    ("db/password", "db-password")
                );
            }
            _ => panic!("expected a collision"),
        }
        let refused = [plain("ld/preload")];
        let err = build(&refused, None).err().expect("refused");
        assert!(err.to_string().contains("ld/preload"), "{err}");
        assert!(build(&[plain("path")], None).is_err());
    }

    #[test]
    fn fields_get_their_own_names() {
        assert_eq!(
            env_name("db", Some("password"), Some("APP_")),
            "APP_DB_PASSWORD"
        );
    }
}

//! `secretctl generate`: random passwords or passphrases, one per line, or on the clipboard
//! (SPEC §10). No vault is opened.

use crate::cli::GenerateArgs;
use crate::failure::{Failure, Result};
use crate::{clipboard, io};
use secretctl_core::generate::{
    self, Charset, CharsetOptions, Class, DEFAULT_SEPARATOR, MAX_COUNT, OsRandom, Passphrase,
    Recipe,
};
use zeroize::{Zeroize, Zeroizing};

/// Output is written in chunks of about this size; each chunk is wiped once written.
const CHUNK: usize = 64 * 1024;

pub fn run(a: GenerateArgs) -> Result<()> {
    let recipe = recipe(&a)?;
    if a.count == 0 || a.count > MAX_COUNT {
        return Err(Failure::usage(format!(
            "-n takes 1 to {MAX_COUNT} passwords, not {}",
            a.count
        )));
    }
    if a.copy && a.count > 1 {
        return Err(Failure::usage(
            "--copy takes one password; leave out -n, or leave out --copy to print them",
        ));
    }
    let mut rng = OsRandom::new();
    if a.copy {
        let password = recipe.generate(&mut rng);
        clipboard::copy(&password, clipboard::CLEAR_AFTER)?;
        if a.print {
            let mut line = Zeroizing::new(String::with_capacity(password.len() + 1));
            line.push_str(&password);
            line.push('\n');
            io::out(line.as_bytes())?;
        }
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!(
                "Copied to the clipboard; it is cleared in {} s.",
                clipboard::CLEAR_AFTER.as_secs()
            );
        }
        return Ok(());
    }
    // Room for one more password, escaped, past a full chunk: the buffer never reallocates, so
    // no copy of it is left behind unwiped.
    let mut buf = Zeroizing::new(Vec::with_capacity(CHUNK + 2 * generate::MAX_LENGTH + 64));
    if a.json {
        let kind = match recipe {
            Recipe::Chars(_) => "characters",
            Recipe::Words(_) => "words",
        };
        buf.extend_from_slice(
            format!(
                "{{\n  \"kind\": \"{kind}\",\n  \"entropy_bits\": {:.1},\n  \"passwords\": [\n",
                recipe.entropy_bits()
            )
            .as_bytes(),
        );
    }
    for i in 0..a.count {
        let password = recipe.generate(&mut rng);
        if a.json {
            buf.extend_from_slice(b"    ");
            push_json_string(&mut buf, &password);
            buf.extend_from_slice(if i + 1 < a.count { b",\n" } else { b"\n" });
        } else {
            buf.extend_from_slice(password.as_bytes());
            buf.push(b'\n');
        }
        if buf.len() >= CHUNK {
            io::out(&buf)?;
            buf.zeroize();
        }
    }
    if a.json {
        buf.extend_from_slice(b"  ]\n}\n");
    }
    io::out(&buf)
}

fn recipe(a: &GenerateArgs) -> Result<Recipe> {
    let usage = |e: generate::Error| {
        let flag = match e {
            generate::Error::ClassExcluded(Class::Lowercase) => " with --no-lowercase",
            generate::Error::ClassExcluded(Class::Uppercase) => " with --no-uppercase",
            generate::Error::ClassExcluded(Class::Digits) => " with --no-digits",
            generate::Error::ClassExcluded(Class::Symbols) => " with --no-symbols",
            _ => "",
        };
        Failure::usage(format!("{e}{flag}"))
    };
    if let Some(words) = a.words {
        let separator = a.separator.as_deref().unwrap_or(DEFAULT_SEPARATOR);
        return Ok(Recipe::Words(
            Passphrase::new(words, separator).map_err(usage)?,
        ));
    }
    let options = CharsetOptions {
        length: a.length,
        lowercase: !a.no_lowercase,
        uppercase: !a.no_uppercase,
        digits: !a.no_digits,
        symbols: !a.no_symbols,
        exclude: a.exclude.clone().unwrap_or_default(),
    };
    Ok(Recipe::Chars(Charset::new(&options).map_err(usage)?))
}

/// Appends `text` as a JSON string. Passwords hold no control characters (printable ASCII, or
/// words and a separator without them), so only `"` and `\` need escaping; anything else is
/// escaped anyway rather than trusted.
fn push_json_string(buf: &mut Vec<u8>, text: &str) {
    buf.push(b'"');
    for c in text.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            c if c.is_control() => {
                buf.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes())
            }
            c => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                utf8.zeroize();
            }
        }
    }
    buf.push(b'"');
}

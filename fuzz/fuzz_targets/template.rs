//! `render_template` (`inject`) on arbitrary text: never panics; it fails exactly when
//! `references` fails; the resolver is called once per distinct reference, in the order
//! `references` lists them; the output is the template with each reference replaced; and a
//! resolver error stops rendering with no output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::transfer::{InjectError, Reference, references, render_template};
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else {
        return;
    };
    let listed = references(template);
    let mut seen: Vec<Reference> = Vec::new();
    let mut resolve = |r: &Reference| -> Result<Zeroizing<Vec<u8>>, String> {
        seen.push(r.clone());
        Ok(Zeroizing::new(format!("<{}>", r.path).into_bytes()))
    };
    let rendered = render_template(template, &mut resolve);
    match (&listed, &rendered) {
        (Ok(refs), Ok(out)) => {
            assert_eq!(&seen, refs, "resolver calls differ from references()");
            let mut distinct = seen.clone();
            distinct.dedup();
            assert_eq!(distinct.len(), seen.len());
            // Replacing every reference makes the output no shorter than the text around them
            // and, as the resolver writes `<path>`, every path appears in it.
            for r in refs {
                let needle = format!("<{}>", r.path);
                assert!(out.windows(needle.len()).any(|w| w == needle.as_bytes()));
            }
            if refs.is_empty() {
                assert_eq!(out.as_slice(), template.as_bytes());
            }
        }
        (Err(a), Err(InjectError::Template(b))) => {
            assert_eq!(a, b);
            assert!(!a.to_string().contains(['\n', '\r']), "multi-line error");
        }
        _ => panic!("references() and render_template() disagree"),
    }
    // A failing resolver: the first reference fails, nothing is rendered.
    if let Ok(refs) = &listed
        && let Some(first) = refs.first()
    {
        let mut failing =
            |_: &Reference| -> Result<Zeroizing<Vec<u8>>, &'static str> { Err("not found") };
        match render_template(template, &mut failing) {
            Err(InjectError::Resolve { reference, .. }) => assert_eq!(&reference, first),
            _ => panic!("a failing resolver must fail rendering at the first reference"),
        }
    }
});

//! Process-wide string interner.
//!
//! Backend, workload, run id, hashes and free-form metadata repeat across
//! millions of records; storing each once keeps a 1.5 M-record ingest well
//! under 1 GiB (a `Sym` is 4 bytes, a `String` 24 plus its heap block).

use lasso::{Spur, ThreadedRodeo};
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::OnceLock;

fn rodeo() -> &'static ThreadedRodeo {
    static RODEO: OnceLock<ThreadedRodeo> = OnceLock::new();
    RODEO.get_or_init(ThreadedRodeo::new)
}

/// An interned string: cheap to copy, compare and hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(Spur);

impl Sym {
    pub fn new(text: &str) -> Sym {
        Sym(rodeo().get_or_intern(text))
    }

    pub fn as_str(self) -> &'static str {
        // The rodeo lives for the whole process, so its strings do too.
        let rodeo: &'static ThreadedRodeo = rodeo();
        rodeo.resolve(&self.0)
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<&str> for Sym {
    fn from(text: &str) -> Sym {
        Sym::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_symbol() {
        let a = Sym::new("sage");
        let b = Sym::new(&String::from("sage"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "sage");
        assert_ne!(a, Sym::new("ray"));
    }
}

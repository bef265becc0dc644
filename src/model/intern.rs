//! Process-wide string interner.
//!
//! Backend, workload, run id, hashes and free-form metadata repeat across
//! millions of records; storing each once keeps a 1.5 M-record ingest well
//! under 1 GiB (a `Sym` is 4 bytes, a `String` 24 plus its heap block).

use lasso::{Spur, ThreadedRodeo};
use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::OnceLock;

/// Fast, deterministic hashing for in-memory maps (keys are our own data,
/// not attacker-chosen, so DoS resistance is not needed): foldhash with a
/// fixed seed, which hashes the maps' small keys (symbols, shapes,
/// dimensions) several times faster than a streaming XXH3.
pub type FastHash = foldhash::fast::FixedState;

/// A [`FastHash`] usable in `const` contexts.
pub const fn fast_hash() -> FastHash {
    foldhash::fast::FixedState::with_seed(0x5A6E_5245_504F_5254)
}

type Rodeo = ThreadedRodeo<Spur, FastHash>;

fn rodeo() -> &'static Rodeo {
    static RODEO: OnceLock<Rodeo> = OnceLock::new();
    RODEO.get_or_init(|| ThreadedRodeo::with_hasher(crate::model::intern::fast_hash()))
}

/// An interned string: cheap to copy, compare and hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(Spur);

impl Sym {
    pub fn new(text: &str) -> Sym {
        // A small per-thread direct-mapped cache in front of the shared
        // table: consecutive records repeat backend, workload and hashes,
        // and this skips the shared table's lock for them.
        type Slot = Option<(Box<str>, Sym)>;
        const SLOTS: usize = 256;
        thread_local! {
            static CACHE: std::cell::RefCell<Vec<Slot>> =
                std::cell::RefCell::new(vec![None; SLOTS]);
        }
        if text.len() > 128 {
            return Sym(rodeo().get_or_intern(text));
        }
        let slot = (xxhash_rust::xxh3::xxh3_64(text.as_bytes()) as usize) % SLOTS;
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            match &cache[slot] {
                Some((cached, sym)) if &**cached == text => *sym,
                _ => {
                    let sym = Sym(rodeo().get_or_intern(text));
                    cache[slot] = Some((text.into(), sym));
                    sym
                }
            }
        })
    }

    /// The symbol of `text` if it was interned already (never inserts).
    pub fn lookup(text: &str) -> Option<Sym> {
        rodeo().get(text).map(Sym)
    }

    /// The symbol's index: stable within one process, so it can stand for
    /// the string in in-memory keys (never in outputs).
    pub fn id(self) -> u32 {
        use lasso::Key;
        self.0.into_usize() as u32
    }

    pub fn as_str(self) -> &'static str {
        // The rodeo lives for the whole process, so its strings do too.
        let rodeo: &'static Rodeo = rodeo();
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

//! The typst [`World`] of the PDF report: the compiler's only door to files,
//! fonts and the clock.
//!
//! Everything is in memory, so a compilation reads no disk, needs no network
//! (no `@preview` packages) and sees no system fonts: the same input gives
//! the same PDF on every machine.
//! - the main source is `/main.typ`; extra files (chart PNG/SVG, `.typ`
//!   snippets) are given by path relative to it, e.g. `charts/throughput.png`;
//!   any other path is [`FileError::NotFound`];
//! - fonts are the ones compiled into the binary: DejaVu Sans (the charts'
//!   font, `site/fonts/`) plus `typst-assets`' Libertinus Serif, New Computer
//!   Modern (text and math) and DejaVu Sans Mono, parsed once per process;
//! - [`World::today`] is `None`, so `datetime.today()` is an error instead of
//!   a silent source of non-determinism: the caller writes dates as text.

use std::collections::HashMap;
use std::sync::OnceLock;

use anyhow::{bail, Context};
use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The sans face of the report, the same file the charts are drawn with.
static DEJAVU_SANS: &[u8] = include_bytes!("../../../site/fonts/DejaVuSans.ttf");

/// Virtual path of the main source; relative paths in it resolve from `/`.
const MAIN_PATH: &str = "/main.typ";

/// Parsed fonts and their book, shared by every compilation of the process
/// (parsing ~11 MB of fonts once, not per report).
struct Fonts {
    fonts: Vec<Font>,
    book: LazyHash<FontBook>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        // DejaVu Sans first: on equal match quality the book prefers the
        // earlier font, and this one is the report's text face.
        // Droid Sans Fallback last: typst reaches it only for characters
        // no other face has (Chinese and Japanese names).
        let fonts: Vec<Font> = std::iter::once(DEJAVU_SANS)
            .chain(typst_assets::fonts())
            .chain(std::iter::once(crate::render::chart::style::FALLBACK_FONT_BYTES))
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Fonts { fonts, book }
    })
}

/// The report's sans face (DejaVu Sans Regular), for drawing vector pages
/// ([`super::vector`]): its metrics, glyph ids and advances.
pub(crate) fn sans_instance() -> &'static typst::text::FontInstance {
    static SANS: OnceLock<typst::text::FontInstance> = OnceLock::new();
    SANS.get_or_init(|| {
        fonts().fonts[0].clone().instantiate(
            typst::text::FontVariant::default(),
            typst::layout::Abs::pt(10.0),
            &typst::text::FontVariations::default(),
        )
    })
}

/// The font file of [`sans_instance`], for embedding.
pub(crate) fn sans_bytes() -> &'static [u8] {
    DEJAVU_SANS
}

/// Droid Sans Fallback (the last font of the book), for the vector pages'
/// characters DejaVu Sans lacks.
pub(crate) fn fallback_instance() -> &'static typst::text::FontInstance {
    static FALLBACK: OnceLock<typst::text::FontInstance> = OnceLock::new();
    FALLBACK.get_or_init(|| {
        let font = fonts().fonts.last().expect("the font book holds the fallback face");
        font.clone().instantiate(
            typst::text::FontVariant::default(),
            typst::layout::Abs::pt(10.0),
            &typst::text::FontVariations::default(),
        )
    })
}

/// The font file of [`fallback_instance`], for embedding.
pub(crate) fn fallback_bytes() -> &'static [u8] {
    crate::render::chart::style::FALLBACK_FONT_BYTES
}

/// Width of `text` set in the report's face (DejaVu Sans Regular) at
/// `size` points, from the font's advance widths (no kerning, which only
/// narrows DejaVu text). A character the face lacks counts 1 em (the
/// fallback faces are no wider); zero-width characters count 0. For the
/// table layout in [`super::layout`].
pub fn text_width_pt(text: &str, size: f64) -> f64 {
    static SANS: OnceLock<typst::text::FontInstance> = OnceLock::new();
    let font = SANS.get_or_init(|| {
        fonts().fonts[0].clone().instantiate(
            typst::text::FontVariant::default(),
            typst::layout::Abs::pt(size),
            &typst::text::FontVariations::default(),
        )
    });
    let em: f64 = text
        .chars()
        .map(|c| match c {
            '\u{200B}' | '\u{2060}' | '\u{200D}' => 0.0,
            c => font
                .ttf()
                .glyph_index(c)
                .and_then(|g| font.x_advance(g.0))
                .map(|e| e.get())
                .unwrap_or(1.0),
        })
        .sum();
    em * size
}

/// The standard library, built once (it is immutable and hashed lazily).
fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// File id of a project path (`charts/a.png` and `/charts/a.png` are the
/// same file). Ids are interned process-wide, so the same path always maps
/// to the same id.
fn project_file(path: &str) -> anyhow::Result<FileId> {
    let vpath = VirtualPath::new(path).with_context(|| format!("{path:?}: not a valid report file path"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// An in-memory typst project: one main source plus virtual files.
pub struct ReportWorld {
    main: FileId,
    /// Typst sources: the main one and any `.typ` virtual file, parsed once.
    sources: HashMap<FileId, Source>,
    /// Every file by id, sources included (typst may read those as bytes too).
    files: HashMap<FileId, Bytes>,
}

impl ReportWorld {
    /// A world whose `/main.typ` is `main_source` and whose other files are
    /// `files` (path relative to the main file, content). Fails on a path
    /// typst cannot represent (e.g. one with `\`), a path given twice, or a
    /// `.typ` file that is not UTF-8.
    pub fn new(main_source: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Self> {
        let main = project_file(MAIN_PATH)?;
        let mut sources = HashMap::new();
        let mut bytes = HashMap::new();
        sources.insert(main, Source::new(main, main_source.to_owned()));
        bytes.insert(main, Bytes::from_string(main_source.to_owned()));
        for (path, data) in files {
            let id = project_file(&path)?;
            if bytes.contains_key(&id) {
                bail!("{path:?}: given twice to the PDF report (or clashes with {MAIN_PATH})");
            }
            if id.vpath().extension() == Some("typ") {
                let text = String::from_utf8(data).with_context(|| format!("{path:?}: typst source is not UTF-8"))?;
                sources.insert(id, Source::new(id, text.clone()));
                bytes.insert(id, Bytes::from_string(text));
            } else {
                bytes.insert(id, Bytes::new(data));
            }
        }
        Ok(Self {
            main,
            sources,
            files: bytes,
        })
    }

    /// The error for an id this world does not hold.
    fn missing(id: FileId) -> FileError {
        match id.root() {
            // No package access at all: the report must build offline.
            VirtualRoot::Package(spec) => FileError::Package(PackageError::NotFound(spec.clone())),
            VirtualRoot::Project => FileError::NotFound(id.vpath().get_with_slash().into()),
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.sources.get(&id) {
            Some(source) => Ok(source.clone()),
            None if self.files.contains_key(&id) => Err(FileError::NotSource),
            None => Err(Self::missing(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| Self::missing(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    /// No clock: the output must not depend on the day it was made.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_resolve_by_project_path_and_nothing_else() {
        let world = ReportWorld::new("hi", vec![("charts/a.png".into(), vec![1, 2, 3])]).unwrap();
        let id = project_file("/charts/a.png").unwrap();
        assert_eq!(world.file(id).unwrap().as_slice(), &[1, 2, 3]);
        assert!(matches!(world.source(id), Err(FileError::NotSource)));
        assert_eq!(world.source(world.main()).unwrap().text(), "hi");
        let other = project_file("etc/passwd").unwrap();
        assert!(matches!(world.file(other), Err(FileError::NotFound(_))));
        assert!(ReportWorld::new("", vec![("a.png".into(), vec![]), ("/a.png".into(), vec![])]).is_err());
        assert!(world.today(None).is_none());
    }

    #[test]
    fn embedded_fonts_include_the_families_the_template_names() {
        let book = &fonts().book;
        for family in [
            "dejavu sans",
            "libertinus serif",
            "dejavu sans mono",
            "new computer modern math",
        ] {
            assert!(book.contains_family(family), "{family} missing");
        }
    }
}

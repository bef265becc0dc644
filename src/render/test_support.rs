//! Test helpers shared by the chart and figure tests: PNG decoding and
//! pixel checks, and an SVG well-formedness check.

use plotters::style::RGBColor;
use std::path::Path;

pub struct Png {
    pub w: u32,
    pub h: u32,
    pub rgb: Vec<u8>,
}

/// Decode an RGB PNG.
pub fn decode(path: &Path) -> Png {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    Png {
        w: info.width,
        h: info.height,
        rgb: buf,
    }
}

pub fn pixels(png: &Png) -> impl Iterator<Item = [u8; 3]> + '_ {
    png.rgb.chunks_exact(3).map(|c| [c[0], c[1], c[2]])
}

pub fn has_colour(png: &Png, c: RGBColor) -> bool {
    pixels(png).any(|p| p == [c.0, c.1, c.2])
}

/// A small well-formedness check: tags nest and close, text and attribute
/// values carry no raw `<`, and every `&` starts a known entity.
pub fn assert_well_formed_xml(doc: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find(['<', '&']) {
        rest = &rest[i..];
        if rest.starts_with('&') {
            let end = rest.find(';').expect("unterminated entity");
            let ent = &rest[1..end];
            assert!(
                matches!(ent, "lt" | "gt" | "amp" | "quot" | "apos") || ent.starts_with('#'),
                "bad entity &{ent};"
            );
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[1..end];
        assert!(!tag.contains('<'), "raw < inside tag {tag:?}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in {tag:?}");
        for (j, _) in tag.match_indices('&') {
            let semi = j + tag[j..].find(';').expect("unterminated entity in tag");
            let ent = &tag[j + 1..semi];
            assert!(matches!(ent, "lt" | "gt" | "amp" | "quot" | "apos"), "bad entity {ent}");
        }
        if tag.starts_with('?') || tag.starts_with('!') {
        } else if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "mismatched close");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "tag name {name:?}");
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed tags {stack:?}");
}

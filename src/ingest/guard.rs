//! Guards against hostile input: size limits (`--max-line`,
//! `--max-document`), content sniffing (compressed, UTF-16 or binary data
//! is named, not parsed), and opening only regular files (a FIFO, device or
//! socket is never opened, so reading cannot block).

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Default `--max-line`: the longest line a JSONL or CSV reader holds.
pub const DEFAULT_MAX_LINE: u64 = 64 << 20;
/// Default `--max-document`: the biggest whole-document JSON file read.
pub const DEFAULT_MAX_DOCUMENT: u64 = 1 << 30;

/// Bytes looked at to decide whether a file is text.
pub const SNIFF_BYTES: usize = 4096;

/// Parse a size: `1048576`, `64KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`,
/// `T` for powers of 1024 and `KB`, `MB`, `GB`, `TB` for powers of 1000, as
/// GNU `truncate -s`). Case-insensitive; at least one byte.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || format!("{s:?} is not a size (e.g. 64MiB, 1GiB or 1048576)");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    let bytes = n
        .checked_mul(factor)
        .ok_or_else(|| format!("{s:?} is too large a size"))?;
    if bytes == 0 {
        return Err(format!("{s:?}: the size must be at least one byte"));
    }
    Ok(bytes)
}

/// A size as a person writes it: `64 MiB`, `1 GiB`, `1.5 GiB`, `1000 bytes`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            if bytes.is_multiple_of(unit) {
                return format!("{} {name}", bytes / unit);
            }
            return format!("{:.1} {name}", bytes as f64 / unit as f64);
        }
    }
    format!("{bytes} bytes")
}

/// Why the first bytes of a file say it is not a text result file, or
/// `None` when it looks like text. Looks at `head` only (a few KiB), so a
/// 40 GB file of zeros is rejected at once.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.is_empty() {
        return None;
    }
    const MAGIC: [(&[u8], &str); 7] = [
        (
            b"\x1f\x8b",
            "looks like gzip: decompress it first (gunzip -c FILE > NEW_FILE)",
        ),
        (
            b"\x28\xb5\x2f\xfd",
            "looks like zstd: decompress it first (zstd -d -c FILE > NEW_FILE)",
        ),
        (
            b"\xfd7zXZ\x00",
            "looks like xz: decompress it first (xz -d -c FILE > NEW_FILE)",
        ),
        (b"PK\x03\x04", "looks like a zip archive: extract it first (unzip FILE)"),
        (
            b"PK\x05\x06",
            "looks like a (empty) zip archive: extract it first (unzip FILE)",
        ),
        (b"PK\x07\x08", "looks like a zip archive: extract it first (unzip FILE)"),
        (
            b"7z\xbc\xaf\x27\x1c",
            "looks like a 7-Zip archive: extract it first (7z x FILE)",
        ),
    ];
    if let Some((_, why)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(why);
    }
    // bzip2: "BZh" + block size digit + the block or end-of-stream magic.
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == *b"\x31\x41\x59\x26\x53\x59" || head[4..10] == *b"\x17\x72\x45\x38\x50\x90")
    {
        return Some("looks like bzip2: decompress it first (bzip2 -d -c FILE > NEW_FILE)");
    }
    const UTF16: &str = "looks like UTF-16: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8 FILE > NEW_FILE)";
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        return Some(UTF16);
    }
    if memchr::memchr(0, head).is_none() {
        // No NUL: text unless most of it is control bytes or broken UTF-8.
        return (non_text_bytes(head) * 10 > head.len() * 3).then_some("binary data, not a text result file");
    }
    // NUL bytes: UTF-16 when they interleave with ASCII, else binary.
    let pairs = head.len() / 2;
    let ascii = |b: u8| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b);
    let le = head.chunks_exact(2).filter(|p| ascii(p[0]) && p[1] == 0).count();
    let be = head.chunks_exact(2).filter(|p| p[0] == 0 && ascii(p[1])).count();
    if pairs > 0 && le.max(be) * 10 >= pairs * 9 {
        return Some(UTF16);
    }
    Some("binary data, not a text result file")
}

/// Bytes of `head` that text does not hold: control characters other than
/// tab, line ends, form feed and escape, and bytes of invalid UTF-8 (a
/// sequence cut at the end of `head` is not counted).
fn non_text_bytes(head: &[u8]) -> usize {
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    let mut invalid = 0;
    let mut rest = head;
    while let Err(e) = std::str::from_utf8(rest) {
        match e.error_len() {
            Some(n) => {
                invalid += n;
                rest = &rest[e.valid_up_to() + n..];
            }
            None => break,
        }
    }
    control + invalid
}

/// What a file system entry is when it is neither a regular file nor a
/// folder nor a symbolic link, as said in a skipped file's reason.
pub fn special_file(ft: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        Some("a FIFO (named pipe): not read, reading could block forever")
    } else if ft.is_char_device() || ft.is_block_device() {
        Some("a device: not read")
    } else if ft.is_socket() {
        Some("a socket: not read")
    } else {
        None
    }
}

/// Open `path` for reading only if it is a regular file. Opened
/// non-blocking, so a FIFO put in its place after the walk cannot block
/// the open; then checked on the open handle.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let what = special_file(&meta.file_type()).unwrap_or("not a regular file");
        return Err(std::io::Error::other(what));
    }
    Ok(file)
}

/// Why a whole document was not read.
pub enum DocError {
    /// Open or read failed.
    Io(std::io::Error),
    /// Bigger than `--max-document`: the size in bytes.
    TooLarge(u64),
    /// Not text: the reason from [`sniff`].
    NotText(&'static str),
}

/// Read a whole-document file (JSON), after checking that it is text and
/// at most `max` bytes: a bigger file is never read.
pub fn read_document(path: &Path, max: u64) -> Result<Vec<u8>, DocError> {
    let mut file = open_regular(path).map_err(DocError::Io)?;
    let size = file.metadata().map_err(DocError::Io)?.len();
    let mut head = vec![0u8; SNIFF_BYTES.min(size as usize)];
    let n = read_full(&mut file, &mut head).map_err(DocError::Io)?;
    head.truncate(n);
    if let Some(why) = sniff(&head) {
        return Err(DocError::NotText(why));
    }
    if size > max {
        return Err(DocError::TooLarge(size));
    }
    let mut bytes = head;
    bytes.reserve_exact((size as usize).saturating_sub(bytes.len()));
    // A file that grew since its size was taken is read up to the limit only.
    file.take(max.saturating_add(1).saturating_sub(bytes.len() as u64))
        .read_to_end(&mut bytes)
        .map_err(DocError::Io)?;
    if bytes.len() as u64 > max {
        return Err(DocError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Fill `buf` unless the file ends first; the bytes read.
pub fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("8m"), Ok(8 << 20));
        assert_eq!(parse_size("2 KB"), Ok(2000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999TiB").is_err());
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(1536 << 20), "1.5 GiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }

    #[test]
    fn sniffing_names_what_is_not_text() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"{\"backend\": \"sage\"}\n"), None);
        assert_eq!(sniff("backend,workload\nsage,Q1 — ünïcode\n".as_bytes()), None);
        // Latin-1 text: a few bytes that are not UTF-8 are still text.
        assert_eq!(sniff(b"backend,workload\nsage,caf\xe9\n"), None);
        assert!(sniff(b"\x1f\x8b\x08\x00\x00\x00").unwrap().contains("gzip"));
        assert!(sniff(b"\x28\xb5\x2f\xfd\x00").unwrap().contains("zstd"));
        assert!(sniff(b"PK\x03\x04rest").unwrap().contains("zip"));
        assert!(sniff(b"\xfd7zXZ\x00\x00").unwrap().contains("xz"));
        assert!(sniff(b"BZh91AY&SY\x00\x00").unwrap().contains("bzip2"));
        assert_eq!(sniff(b"BZh9 is a fine header,x\n"), None);
        assert!(sniff(b"\xff\xfe{\x00\"\x00").unwrap().contains("UTF-16"));
        let utf16le: Vec<u8> = "{\"backend\": 1}\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(sniff(&utf16le).unwrap().contains("UTF-16"));
        let utf16be: Vec<u8> = "{\"backend\": 1}\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert!(sniff(&utf16be).unwrap().contains("UTF-16"));
        assert_eq!(sniff(&[0u8; 4096]), Some("binary data, not a text result file"));
        assert_eq!(
            sniff(b"{\"a\": 1}\n\x00\x00"),
            Some("binary data, not a text result file")
        );
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80)
            .collect();
        assert_eq!(sniff(&noise), Some("binary data, not a text result file"));
    }
}

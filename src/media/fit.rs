//! Fitting an image to a platform: the formats it takes, its byte and pixel
//! limits, its aspect ratios; turned upright from its EXIF orientation and
//! stripped of its metadata (GPS above all) unless the project keeps it.
//!
//! An image that already fits is sent as it is, with only its metadata
//! segments removed (no re-encoding, so no loss). One that does not is
//! decoded (in bounded memory: a pixel cap checked from the header before
//! anything is decoded), cropped or downscaled where a limit says so, and
//! encoded again: JPEG at the highest quality that fits (estimated on a
//! sample of the image's rows, then checked on the whole), and only when no
//! quality down to [`Q_MIN`] fits are the pixels shrunk; PNG where the image
//! has transparency and the platform takes PNG.

use crate::model::limits::{AspectRange, Limits};
use ::image::metadata::Orientation;
use ::image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage, RgbaImage};
use std::fmt;
use std::io::Cursor;

const MB: u64 = 1_000_000;
/// The largest image file social reads: above every platform's limit.
pub const MAX_INPUT_BYTES: u64 = 40 * MB;
/// The most pixels social decodes (a decompression bomb stops here,
/// before any pixel memory is taken): 64 megapixels, 8000 × 8000.
pub const MAX_PIXELS: u64 = 64_000_000;
/// What the decoder may allocate at once.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// The JPEG qualities searched, best first; below the floor the pixels
/// shrink instead.
pub const Q_MAX: u8 = 92;
pub const Q_MIN: u8 = 70;
/// The quality a downscale aims for, so the search that follows has room.
const Q_AIM: u8 = 82;

/// Why an image cannot be used; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaError(pub String);

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MediaError {}

fn err(name: &str, what: impl fmt::Display) -> MediaError {
    MediaError(format!("`{name}` {what}"))
}

/// What one platform (one account, with what its server reported) takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The platform's name, for messages ("Bluesky").
    pub platform: &'static str,
    pub max_bytes: u64,
    /// Most pixels (width × height), where the platform caps them.
    pub max_pixels: Option<u64>,
    /// Formats it takes (MIME types).
    pub formats: Vec<&'static str>,
    pub aspect: Option<AspectRange>,
    /// Keep EXIF, XMP and the like (`keep_metadata = true`).
    pub keep_metadata: bool,
}

impl Spec {
    pub fn for_limits(l: &Limits, keep_metadata: bool) -> Spec {
        Spec {
            platform: l.kind.display_name(),
            max_bytes: l.max_image_bytes,
            max_pixels: l.max_image_pixels,
            formats: l.image_types.to_vec(),
            aspect: l.image_aspect,
            keep_metadata,
        }
    }

    /// What the cache key holds of the spec: everything that changes the
    /// output, and the version of this code.
    pub fn fingerprint(&self) -> String {
        format!(
            "fit-v1 {} {:?} {:?} {:?} {}",
            self.max_bytes,
            self.max_pixels,
            self.formats,
            self.aspect.map(|a| (a.min, a.max)),
            self.keep_metadata
        )
    }

    fn takes(&self, mime: &str) -> bool {
        self.formats.contains(&mime)
    }
}

/// An image as it will be sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The new bytes; `None` when the file goes out exactly as it is.
    pub data: Option<Vec<u8>>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// What was changed and why, for `preview` (empty: nothing).
    pub changes: Vec<String>,
}

/// What fitting will do to an image, judged from its header alone (for
/// `validate` and `preview`, which stay fast and offline).
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// The changes that alter what people see (format, pixels, crop,
    /// quality): `validate` warns about these.
    pub visible: Vec<String>,
    /// Turned upright, metadata removed: done silently.
    pub quiet: Vec<String>,
}

/// A fitted image in the cache.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fitted {
    pub path: std::path::PathBuf,
    pub mime: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub original_bytes: u64,
    pub changes: Vec<String>,
}

fn mime_of(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        _ => "application/octet-stream",
    }
}

/// The short name of a MIME type for messages ("JPEG").
pub fn short(mime: &str) -> String {
    mime.trim_start_matches("image/").to_ascii_uppercase()
}

/// Bytes for people: "1.2 MB", "850 kB".
pub fn human_bytes(n: u64) -> String {
    if n >= MB {
        format!("{:.1} MB", n as f64 / MB as f64)
    } else if n >= 1000 {
        format!("{} kB", n / 1000)
    } else {
        format!("{n} bytes")
    }
}

/// The header facts: format, dimensions, orientation.
struct Header {
    format: ImageFormat,
    width: u32,
    height: u32,
    orientation: Orientation,
}

fn reader<'a>(data: &'a [u8], name: &str) -> Result<ImageReader<Cursor<&'a [u8]>>, MediaError> {
    let format = ::image::guess_format(data).map_err(|_| {
        err(
            name,
            "is not an image social can read: JPEG, PNG, GIF and WebP are",
        )
    })?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(err(
            name,
            format!(
                "is a {} image; social reads JPEG, PNG, GIF and WebP",
                format
                    .extensions_str()
                    .first()
                    .map_or("?".into(), |e| e.to_ascii_uppercase())
            ),
        ));
    }
    // The pixel count from the header alone, before a decoder exists.
    if let Ok(size) = imagesize::blob_size(data) {
        check_pixels(
            name,
            u32::try_from(size.width).unwrap_or(u32::MAX),
            u32::try_from(size.height).unwrap_or(u32::MAX),
        )?;
    }
    let mut r = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = ::image::Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    r.limits(limits);
    Ok(r)
}

/// A JPEG must end its last scan with an end-of-image marker; a decoder
/// fills a cut-off file with grey rather than fail, so it is checked here.
/// (Entropy-coded data cannot hold either marker unescaped.)
fn check_complete(data: &[u8], format: ImageFormat, name: &str) -> Result<(), MediaError> {
    if format != ImageFormat::Jpeg {
        return Ok(());
    }
    let scan = data.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let ends = scan.is_some_and(|at| data[at..].windows(2).any(|w| w == [0xFF, 0xD9]));
    if ends {
        Ok(())
    } else {
        Err(err(
            name,
            "is cut off (its JPEG data has no end): it is truncated or corrupt; export it again",
        ))
    }
}

fn broken(name: &str, e: ::image::ImageError) -> MediaError {
    match e {
        ::image::ImageError::Limits(_) => err(
            name,
            "needs more memory to decode than social allows (512 MiB); export it smaller",
        ),
        e => err(
            name,
            format!("cannot be read as an image ({e}): is it truncated or corrupt?"),
        ),
    }
}

fn check_pixels(name: &str, w: u32, h: u32) -> Result<(), MediaError> {
    let px = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(err(name, "has no pixels"));
    }
    if px > MAX_PIXELS {
        return Err(err(
            name,
            format!(
                "is {w}×{h} pixels ({:.0} megapixels); social processes images up to {} megapixels: export it smaller",
                px as f64 / 1e6,
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

fn header(data: &[u8], name: &str) -> Result<Header, MediaError> {
    let r = reader(data, name)?;
    let format = r.format().unwrap_or(ImageFormat::Jpeg);
    let mut dec = r.into_decoder().map_err(|e| broken(name, e))?;
    let (width, height) = dec.dimensions();
    check_pixels(name, width, height)?;
    let orientation = dec.orientation().unwrap_or(Orientation::NoTransforms);
    Ok(Header {
        format,
        width,
        height,
        orientation,
    })
}

/// Whether an orientation turns the image a quarter.
fn swaps(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The centre crop that brings `w` × `h` within `range`, if it is outside.
fn crop_box(w: u32, h: u32, range: &AspectRange) -> Option<(u32, u32, u32, u32)> {
    if range.contains(w.into(), h.into()) {
        return None;
    }
    let (w64, h64) = (u64::from(w), u64::from(h));
    if w64 * range.min.1 < h64 * range.min.0 {
        // Too tall: the narrowest ratio, full width.
        let nh = ((w64 * range.min.1) / range.min.0).max(1) as u32;
        Some((0, (h - nh) / 2, w, nh))
    } else {
        let nw = ((h64 * range.max.0) / range.max.1).max(1) as u32;
        Some(((w - nw) / 2, 0, nw, h))
    }
}

/// The dimensions within `max_pixels`, keeping the ratio.
fn within_pixels(w: u32, h: u32, max_pixels: u64) -> (u32, u32) {
    let px = u64::from(w) * u64::from(h);
    if px <= max_pixels {
        return (w, h);
    }
    let s = (max_pixels as f64 / px as f64).sqrt();
    let (mut nw, mut nh) = (
        ((f64::from(w) * s).floor() as u32).max(1),
        ((f64::from(h) * s).floor() as u32).max(1),
    );
    while u64::from(nw) * u64::from(nh) > max_pixels {
        nw -= 1;
        nh = ((u64::from(nw) * u64::from(h)) / u64::from(w)).max(1) as u32;
    }
    (nw, nh)
}

/// What fitting `data` to `spec` will do, from the header alone.
pub fn assess(data: &[u8], name: &str, spec: &Spec) -> Result<Assessment, MediaError> {
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big(name, data.len() as u64));
    }
    let h = header(data, name)?;
    check_complete(data, h.format, name)?;
    let mime = mime_of(h.format);
    let (mut w, mut ht) = if swaps(h.orientation) {
        (h.height, h.width)
    } else {
        (h.width, h.height)
    };
    let mut visible = Vec::new();
    let mut quiet = Vec::new();
    if h.format == ImageFormat::Gif {
        // Animations are sent as they are.
        return Ok(Assessment {
            mime,
            width: w,
            height: ht,
            visible,
            quiet,
        });
    }
    let turned = h.orientation != Orientation::NoTransforms && !spec.keep_metadata;
    if turned {
        quiet.push("turned upright (EXIF orientation)".into());
    }
    if !spec.keep_metadata {
        quiet.push("metadata removed (EXIF, GPS, XMP)".into());
    }
    if let Some(range) = &spec.aspect
        && let Some((_, _, cw, ch)) = crop_box(w, ht, range)
    {
        visible.push(format!(
            "cropped from {w}×{ht} to {cw}×{ch} (centre): {} takes {} to {}",
            spec.platform, range.min_label, range.max_label
        ));
        (w, ht) = (cw, ch);
    }
    if let Some(max) = spec.max_pixels {
        let (nw, nh) = within_pixels(w, ht, max);
        if (nw, nh) != (w, ht) {
            visible.push(format!(
                "downscaled from {w}×{ht} to {nw}×{nh}: {} takes up to {:.1} megapixels",
                spec.platform,
                max as f64 / 1e6
            ));
            (w, ht) = (nw, nh);
        }
    }
    let target = if spec.takes(mime) {
        mime
    } else if spec.takes("image/jpeg") {
        "image/jpeg"
    } else {
        spec.formats.first().copied().unwrap_or("image/jpeg")
    };
    if target != mime {
        visible.push(format!(
            "converted from {} to {}: {} does not take {}",
            short(mime),
            short(target),
            spec.platform,
            short(mime)
        ));
    }
    if data.len() as u64 > spec.max_bytes {
        visible.push(format!(
            "made smaller, from {} to at most {}: {}'s limit (higher compression first, fewer pixels only if needed)",
            human_bytes(data.len() as u64),
            human_bytes(spec.max_bytes),
            spec.platform
        ));
    }
    Ok(Assessment {
        mime,
        width: w,
        height: ht,
        visible,
        quiet,
    })
}

fn too_big(name: &str, n: u64) -> MediaError {
    err(
        name,
        format!(
            "is {}; social processes images up to {}: export it smaller",
            human_bytes(n),
            human_bytes(MAX_INPUT_BYTES)
        ),
    )
}

/// Fits `data` (the file `name`) to `spec`.
pub fn fit(data: &[u8], name: &str, spec: &Spec) -> Result<Output, MediaError> {
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big(name, data.len() as u64));
    }
    let r = reader(data, name)?;
    let format = r.format().unwrap_or(ImageFormat::Jpeg);
    let mime = mime_of(format);
    let mut dec = r.into_decoder().map_err(|e| broken(name, e))?;
    let (w, h) = dec.dimensions();
    check_pixels(name, w, h)?;
    check_complete(data, format, name)?;
    let orientation = dec.orientation().unwrap_or(Orientation::NoTransforms);
    let (ow, oh) = if swaps(orientation) { (h, w) } else { (w, h) };
    let turn = orientation != Orientation::NoTransforms && !spec.keep_metadata;
    let aspect_ok = spec.aspect.is_none_or(|r| r.contains(ow.into(), oh.into()));
    let pixels_ok = spec
        .max_pixels
        .is_none_or(|m| u64::from(w) * u64::from(h) <= m);

    if format == ImageFormat::Gif {
        // An animation is not re-encoded: a GIF over the limit stays an error.
        if data.len() as u64 > spec.max_bytes {
            return Err(err(
                name,
                format!(
                    "is {}, over {}'s limit of {} for a GIF; social does not re-encode animations: make it shorter or smaller",
                    human_bytes(data.len() as u64),
                    spec.platform,
                    human_bytes(spec.max_bytes)
                ),
            ));
        }
        return Ok(Output {
            data: None,
            mime,
            width: w,
            height: h,
            changes: Vec::new(),
        });
    }

    if spec.takes(mime) && aspect_ok && pixels_ok && !turn {
        let stripped = if spec.keep_metadata {
            None
        } else {
            strip(data, format)
        };
        let len = stripped.as_ref().map_or(data.len(), Vec::len) as u64;
        if len <= spec.max_bytes {
            let changes = if stripped.is_some() {
                vec!["metadata removed (EXIF, GPS, XMP), pixels untouched".to_string()]
            } else {
                Vec::new()
            };
            return Ok(Output {
                data: stripped,
                mime,
                width: w,
                height: h,
                changes,
            });
        }
    }

    // Decoded from here on.
    let icc = dec.icc_profile().ok().flatten();
    let mut exif = if spec.keep_metadata {
        dec.exif_metadata().ok().flatten()
    } else {
        None
    };
    let mut img = DynamicImage::from_decoder(dec).map_err(|e| broken(name, e))?;
    let mut changes = Vec::new();
    if orientation != Orientation::NoTransforms {
        img.apply_orientation(orientation);
        if let Some(e) = &mut exif {
            let _ = Orientation::remove_from_exif_chunk(e);
        }
        changes.push("turned upright (EXIF orientation)".to_string());
    }
    if let Some(range) = &spec.aspect
        && let Some((x, y, cw, ch)) = crop_box(img.width(), img.height(), range)
    {
        changes.push(format!(
            "cropped from {}×{} to {cw}×{ch} (centre): {} takes {} to {}",
            img.width(),
            img.height(),
            spec.platform,
            range.min_label,
            range.max_label
        ));
        img = img.crop_imm(x, y, cw, ch);
    }
    if let Some(max) = spec.max_pixels {
        let (nw, nh) = within_pixels(img.width(), img.height(), max);
        if (nw, nh) != (img.width(), img.height()) {
            changes.push(format!(
                "downscaled from {}×{} to {nw}×{nh}: {} takes up to {:.1} megapixels",
                img.width(),
                img.height(),
                spec.platform,
                max as f64 / 1e6
            ));
            img = resize(&img, nw, nh, name)?;
        }
    }
    let alpha = uses_alpha(&img);
    let png = spec.takes("image/png");
    let jpeg = spec.takes("image/jpeg");
    let out = if png && (alpha || !jpeg) {
        fit_png(img, spec, name, icc.as_deref(), &mut changes)?
    } else if jpeg {
        let rgb = if alpha {
            changes.push(format!(
                "transparency filled with white: {} takes no PNG",
                spec.platform
            ));
            flatten(&img.to_rgba8())
        } else {
            img.into_rgb8()
        };
        fit_jpeg(
            rgb,
            spec,
            name,
            icc.as_deref(),
            exif.as_deref(),
            &mut changes,
        )?
    } else {
        return Err(err(
            name,
            format!(
                "cannot be sent to {}: it takes {}, and social writes JPEG and PNG",
                spec.platform,
                spec.formats.join(", ")
            ),
        ));
    };
    let (data, out_mime, width, height) = out;
    if out_mime != mime {
        changes.insert(
            0,
            format!(
                "converted from {} to {}{}",
                short(mime),
                short(out_mime),
                if spec.takes(mime) {
                    String::new()
                } else {
                    format!(": {} does not take {}", spec.platform, short(mime))
                }
            ),
        );
    }
    if !spec.keep_metadata {
        changes.push("metadata removed (EXIF, GPS, XMP)".into());
    }
    Ok(Output {
        data: Some(data),
        mime: out_mime,
        width,
        height,
        changes,
    })
}

type Encoded = (Vec<u8>, &'static str, u32, u32);

fn uses_alpha(img: &DynamicImage) -> bool {
    if !img.color().has_alpha() {
        return false;
    }
    match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] < 255),
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p.0[1] < 255),
        other => other.to_rgba8().pixels().any(|p| p.0[3] < 255),
    }
}

/// An RGBA image over white.
fn flatten(img: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        ::image::Rgb([over(p[0]), over(p[1]), over(p[2])])
    })
}

fn resize(img: &DynamicImage, w: u32, h: u32, name: &str) -> Result<DynamicImage, MediaError> {
    use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
    // 8 bits per channel: what every platform shows.
    let src = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.to_rgb8())
    };
    let mut dst = DynamicImage::new(w, h, src.color());
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(|e| err(name, format!("cannot be resized: {e}")))?;
    Ok(dst)
}

fn encode_jpeg(
    img: &RgbImage,
    q: u8,
    icc: Option<&[u8]>,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let (w, h) = img.dimensions();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(format!(
            "{w}×{h} is too large for JPEG (65,535 pixels a side)"
        ));
    };
    let mut out = Vec::with_capacity(img.as_raw().len() / 8);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, q);
    enc.set_optimized_huffman_tables(true);
    if let Some(icc) = icc {
        enc.add_icc_profile(icc).map_err(|e| e.to_string())?;
    }
    if let Some(exif) = exif {
        // Dropped when it does not fit one segment.
        let _ = enc.add_exif_metadata(exif);
    }
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Every eighth band of 16 rows (a JPEG's macroblock height), for
/// estimating the encoded size at a quality; `None` when the image is
/// small enough to encode whole.
fn sample(img: &RgbImage) -> Option<(RgbImage, f64)> {
    const BAND: u32 = 16;
    const EVERY: u32 = 8;
    let (w, h) = img.dimensions();
    if h < BAND * EVERY * 4 {
        return None;
    }
    let bands: Vec<u32> = (0..h / BAND).step_by(EVERY as usize).collect();
    let sh = bands.len() as u32 * BAND;
    let row = w as usize * 3;
    let mut buf = Vec::with_capacity(row * sh as usize);
    let raw = img.as_raw();
    for b in &bands {
        let start = (*b * BAND) as usize * row;
        buf.extend_from_slice(&raw[start..start + BAND as usize * row]);
    }
    let s = RgbImage::from_raw(w, sh, buf)?;
    Some((s, f64::from(h) / f64::from(sh)))
}

/// The highest quality in `Q_MIN..=Q_MAX` whose estimate fits `budget`,
/// and the estimate at `Q_AIM` (for a downscale); `None` when even the
/// floor does not fit.
fn search_quality(
    img: &RgbImage,
    budget: u64,
    estimate: &dyn Fn(&RgbImage, u8) -> Result<u64, String>,
) -> Result<(Option<u8>, u64), String> {
    let floor = estimate(img, Q_MIN)?;
    if floor > budget {
        let aim = estimate(img, Q_AIM)?;
        return Ok((None, aim));
    }
    let (mut lo, mut hi) = (Q_MIN, Q_MAX);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if estimate(img, mid)? <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok((Some(lo), floor))
}

fn fit_jpeg(
    mut img: RgbImage,
    spec: &Spec,
    name: &str,
    icc: Option<&[u8]>,
    exif: Option<&[u8]>,
    changes: &mut Vec<String>,
) -> Result<Encoded, MediaError> {
    let enc_err = |e: String| err(name, format!("cannot be encoded as JPEG: {e}"));
    let overhead = (icc.map_or(0, <[u8]>::len) + exif.map_or(0, <[u8]>::len) + 1024) as u64;
    let max = spec.max_bytes;
    let (w0, h0) = img.dimensions();
    for _ in 0..8 {
        let sampled = sample(&img);
        let estimate = |im: &RgbImage, q: u8| -> Result<u64, String> {
            match &sampled {
                Some((s, factor)) => {
                    Ok((encode_jpeg(s, q, None, None)?.len() as f64 * factor) as u64 + overhead)
                }
                None => Ok(encode_jpeg(im, q, icc, exif)?.len() as u64),
            }
        };
        // Aim a little under the limit: the estimate is an estimate.
        let budget = if sampled.is_some() {
            max * 96 / 100
        } else {
            max
        };
        let (q, at_aim) = search_quality(&img, budget, &estimate).map_err(enc_err)?;
        if let Some(mut q) = q {
            loop {
                let data = encode_jpeg(&img, q, icc, exif).map_err(enc_err)?;
                if data.len() as u64 <= max {
                    let (w, h) = img.dimensions();
                    if (w, h) != (w0, h0) {
                        changes.push(format!(
                            "downscaled from {w0}×{h0} to {w}×{h} to fit {}'s {} (no quality from {Q_MAX} down to {Q_MIN} fitted)",
                            spec.platform,
                            human_bytes(max)
                        ));
                    }
                    changes.push(format!(
                        "encoded as JPEG at quality {q}: {} ({} takes up to {})",
                        human_bytes(data.len() as u64),
                        spec.platform,
                        human_bytes(max)
                    ));
                    return Ok((data, "image/jpeg", w, h));
                }
                if q <= Q_MIN {
                    break;
                }
                q = q.saturating_sub(3).max(Q_MIN);
            }
        }
        // Fewer pixels: enough that the aimed quality fits.
        let (w, h) = img.dimensions();
        let ratio = (max as f64 * 0.9 / at_aim.max(1) as f64).clamp(0.05, 0.85);
        let s = ratio.sqrt();
        let (nw, nh) = (
            ((f64::from(w) * s) as u32).max(1),
            ((f64::from(h) * s) as u32).max(1),
        );
        if nw < 16 || nh < 16 {
            break;
        }
        img = resize(&DynamicImage::ImageRgb8(img), nw, nh, name)?.into_rgb8();
    }
    Err(err(
        name,
        format!(
            "cannot be made to fit {}'s {} limit",
            spec.platform,
            human_bytes(max)
        ),
    ))
}

fn encode_png(img: &DynamicImage, icc: Option<&[u8]>) -> Result<Vec<u8>, String> {
    use ::image::ImageEncoder;
    use ::image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::new();
    let mut enc =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive);
    if let Some(icc) = icc {
        let _ = enc.set_icc_profile(icc.to_vec());
    }
    let (w, h) = (img.width(), img.height());
    match img {
        DynamicImage::ImageRgba8(b) => {
            enc.write_image(b.as_raw(), w, h, ::image::ExtendedColorType::Rgba8)
        }
        other => {
            let b = other.to_rgba8();
            enc.write_image(b.as_raw(), w, h, ::image::ExtendedColorType::Rgba8)
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(out)
}

fn fit_png(
    mut img: DynamicImage,
    spec: &Spec,
    name: &str,
    icc: Option<&[u8]>,
    changes: &mut Vec<String>,
) -> Result<Encoded, MediaError> {
    let (w0, h0) = (img.width(), img.height());
    for _ in 0..8 {
        let data = encode_png(&img, icc)
            .map_err(|e| err(name, format!("cannot be encoded as PNG: {e}")))?;
        let n = data.len() as u64;
        if n <= spec.max_bytes {
            if (img.width(), img.height()) != (w0, h0) {
                changes.push(format!(
                    "downscaled from {w0}×{h0} to {}×{} to fit {}'s {} as PNG (keeping its transparency)",
                    img.width(),
                    img.height(),
                    spec.platform,
                    human_bytes(spec.max_bytes)
                ));
            }
            return Ok((data, "image/png", img.width(), img.height()));
        }
        let s = (spec.max_bytes as f64 * 0.92 / n as f64).sqrt().min(0.9);
        let (nw, nh) = (
            ((f64::from(img.width()) * s) as u32).max(1),
            ((f64::from(img.height()) * s) as u32).max(1),
        );
        if nw < 16 || nh < 16 {
            break;
        }
        img = resize(&img, nw, nh, name)?;
    }
    Err(err(
        name,
        format!(
            "cannot be made to fit {}'s {} limit as PNG",
            spec.platform,
            human_bytes(spec.max_bytes)
        ),
    ))
}

/// The file without its metadata (EXIF with GPS, XMP, IPTC, comments,
/// text chunks), pixels untouched; `None` when there was none (or the
/// container cannot be taken apart, and is then decoded instead).
fn strip(data: &[u8], format: ImageFormat) -> Option<Vec<u8>> {
    use img_parts::Bytes;
    match format {
        ImageFormat::Jpeg => {
            let mut j = img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(data)).ok()?;
            let before = j.segments().len();
            j.segments_mut().retain(|s| {
                let m = s.marker();
                match m {
                    // JFIF, and Adobe's (which says how the colours are coded).
                    0xE0 | 0xEE => true,
                    // APP2 carries the ICC colour profile (kept) or MPF (not).
                    0xE2 => s.contents().starts_with(b"ICC_PROFILE\0"),
                    0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
                    _ => true,
                }
            });
            if j.segments().len() == before {
                return None;
            }
            Some(j.encoder().bytes().to_vec()).filter(|o| o.len() < data.len())
        }
        ImageFormat::Png => {
            let mut p = img_parts::png::Png::from_bytes(Bytes::copy_from_slice(data)).ok()?;
            let before = p.chunks().len();
            p.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME"));
            if p.chunks().len() == before {
                return None;
            }
            Some(p.encoder().bytes().to_vec())
        }
        ImageFormat::WebP => {
            use img_parts::ImageEXIF;
            let mut w = img_parts::webp::WebP::from_bytes(Bytes::copy_from_slice(data)).ok()?;
            let had = w.exif().is_some() || w.chunk_by_id(*b"XMP ").is_some();
            if !had {
                return None;
            }
            w.set_exif(None);
            w.remove_chunks_by_id(*b"XMP ");
            Some(w.encoder().bytes().to_vec())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;

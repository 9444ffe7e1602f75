use super::*;
use crate::model::limits::PlatformKind;

/// A photo-like picture: gradients with grain, which JPEG cannot squeeze
/// to nothing.
pub(crate) fn photo(w: u32, h: u32, grain: u8, seed: u64) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed);
    RgbImage::from_fn(w, h, |x, y| {
        let n = |rng: &mut fastrand::Rng| rng.u8(..grain.max(1));
        ::image::Rgb([
            ((x * 255 / w.max(1)) as u8).saturating_add(n(&mut rng)),
            ((y * 255 / h.max(1)) as u8).saturating_add(n(&mut rng)),
            (((x + y) * 127 / (w + h).max(1)) as u8).saturating_add(n(&mut rng)),
        ])
    })
}

pub(crate) fn jpeg(img: &RgbImage, q: u8) -> Vec<u8> {
    encode_jpeg(img, q, None, None).unwrap()
}

/// An EXIF block with an orientation and a GPS latitude, as a phone
/// writes it (little-endian TIFF).
pub(crate) fn exif(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II\x2a\x00");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&u32::from(orientation).to_le_bytes());
    let gps_at = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&0x8825u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&(gps_at as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // The GPS IFD: GPSLatitude, three rationals.
    let data_at = gps_at + 2 + 12 + 4;
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    t.extend_from_slice(&3u32.to_le_bytes());
    t.extend_from_slice(&(data_at as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(52u32, 1u32), (31, 1), (1234, 100)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    app1
}

/// `data` (a JPEG) with an APP1 segment holding `payload` after its SOI.
pub(crate) fn with_app1(data: &[u8], payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 2) as u16;
    let mut out = data[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&data[2..]);
    out
}

fn spec(kind: PlatformKind, max_bytes: u64) -> Spec {
    Spec {
        max_bytes,
        ..Spec::for_limits(kind.limits(), false)
    }
}

fn decode(data: &[u8]) -> DynamicImage {
    ::image::load_from_memory(data).unwrap()
}

fn has_gps(data: &[u8]) -> bool {
    // The latitude's seconds, 1234/100, as the EXIF block writes them.
    let seconds = [0xD2, 0x04, 0, 0, 100, 0, 0, 0];
    data.windows(6).any(|w| w == b"Exif\0\0") || data.windows(8).any(|w| w == seconds)
}

#[test]
fn an_image_that_fits_and_has_no_metadata_goes_out_as_it_is() {
    let data = jpeg(&photo(400, 300, 20, 1), 85);
    let out = fit(&data, "a.jpg", &spec(PlatformKind::Bluesky, 2_000_000)).unwrap();
    assert_eq!(out.data, None);
    assert_eq!((out.width, out.height, out.mime), (400, 300, "image/jpeg"));
    assert!(out.changes.is_empty(), "{:?}", out.changes);
}

#[test]
fn gps_and_other_exif_are_removed_without_touching_the_pixels() {
    let plain = jpeg(&photo(400, 300, 20, 2), 85);
    let data = with_app1(&plain, &exif(1));
    assert!(has_gps(&data));
    let out = fit(&data, "a.jpg", &spec(PlatformKind::Bluesky, 2_000_000)).unwrap();
    let sent = out.data.expect("rewritten");
    assert!(!has_gps(&sent), "EXIF left in what is sent");
    assert_eq!(
        sent, plain,
        "only the segment removed: the same bytes as without it"
    );
    assert!(
        out.changes[0].contains("metadata removed"),
        "{:?}",
        out.changes
    );
}

#[test]
fn keep_metadata_sends_the_file_as_it_is() {
    let data = with_app1(&jpeg(&photo(400, 300, 20, 3), 85), &exif(1));
    let keep = Spec {
        keep_metadata: true,
        ..spec(PlatformKind::Bluesky, 2_000_000)
    };
    assert_eq!(fit(&data, "a.jpg", &keep).unwrap().data, None);
}

#[test]
fn the_exif_orientation_is_applied_and_then_removed() {
    // 6: the camera was turned; the picture is shown rotated 90° clockwise.
    let img = photo(400, 300, 0, 4);
    let data = with_app1(&jpeg(&img, 90), &exif(6));
    let out = fit(&data, "a.jpg", &spec(PlatformKind::Mastodon, 16_000_000)).unwrap();
    assert_eq!((out.width, out.height), (300, 400), "{:?}", out.changes);
    let sent = out.data.unwrap();
    assert!(!has_gps(&sent));
    let back = decode(&sent).to_rgb8();
    assert_eq!(back.dimensions(), (300, 400));
    // The source's top-left (dark) corner is now at the top right.
    let tr = back.get_pixel(299, 0).0;
    let tl = back.get_pixel(0, 0).0;
    assert!(tr[0] < 40 && tr[1] < 40, "{tr:?}");
    assert!(tl[1] > 200, "{tl:?}");
    assert!(out.changes.iter().any(|c| c.contains("upright")));
}

#[test]
fn an_image_over_the_byte_limit_gets_the_highest_quality_that_fits() {
    let data = jpeg(&photo(1600, 1200, 60, 5), 98);
    let max = data.len() as u64 / 3;
    let out = fit(&data, "big.jpg", &spec(PlatformKind::Bluesky, max)).unwrap();
    let sent = out.data.unwrap();
    assert!(sent.len() as u64 <= max, "{} > {max}", sent.len());
    assert_eq!(
        (out.width, out.height),
        (1600, 1200),
        "quality first, pixels kept"
    );
    let q: u8 = out
        .changes
        .iter()
        .find_map(|c| c.split("quality ").nth(1))
        .and_then(|s| s.split(':').next())
        .and_then(|s| s.parse().ok())
        .expect("quality named");
    assert!((Q_MIN..=Q_MAX).contains(&q));
    // One step higher would not have fitted (the search is not lazy).
    if q < Q_MAX {
        assert!(
            encode_jpeg(&decode(&data).to_rgb8(), q + 2, None, None)
                .unwrap()
                .len() as u64
                > max * 96 / 100
        );
    }
}

#[test]
fn pixels_shrink_only_when_no_quality_fits() {
    let data = jpeg(&photo(2000, 1500, 90, 6), 95);
    let max = 150_000;
    let out = fit(&data, "huge.jpg", &spec(PlatformKind::Bluesky, max)).unwrap();
    assert!(out.data.unwrap().len() as u64 <= max);
    assert!(out.width < 2000 && out.height < 1500);
    assert_eq!(
        (out.width as f64 / out.height as f64 * 100.0).round(),
        (2000.0f64 / 1500.0 * 100.0).round(),
        "the ratio is kept"
    );
    assert!(
        out.changes.iter().any(|c| c.contains("downscaled")),
        "{:?}",
        out.changes
    );
}

fn rgba_png(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let base = photo(w, h, 80, seed);
    let img = RgbaImage::from_fn(w, h, |x, y| {
        let p = base.get_pixel(x, y).0;
        ::image::Rgba([p[0], p[1], p[2], if x < w / 2 { 0 } else { 255 }])
    });
    encode_png(&DynamicImage::ImageRgba8(img), None).unwrap()
}

#[test]
fn a_transparent_png_stays_a_transparent_png_where_png_is_taken() {
    let data = rgba_png(800, 600, 7);
    let max = data.len() as u64 / 2;
    let out = fit(&data, "logo.png", &spec(PlatformKind::Bluesky, max)).unwrap();
    assert_eq!(out.mime, "image/png");
    let sent = out.data.unwrap();
    assert!(sent.len() as u64 <= max);
    let back = decode(&sent).to_rgba8();
    assert_eq!(back.get_pixel(1, 1).0[3], 0, "transparent left half kept");
    assert_eq!(back.get_pixel(back.width() - 2, 1).0[3], 255);
}

#[test]
fn instagram_gets_a_jpeg_within_its_aspect_ratios() {
    let data = rgba_png(1000, 2000, 8);
    let out = fit(&data, "tall.png", &spec(PlatformKind::Instagram, 8_000_000)).unwrap();
    assert_eq!(out.mime, "image/jpeg");
    assert_eq!((out.width, out.height), (1000, 1250), "cropped to 4:5");
    let back = decode(&out.data.unwrap()).to_rgb8();
    assert_eq!(
        back.get_pixel(1, 600).0,
        [255, 255, 255],
        "transparency on white"
    );
    assert!(
        out.changes
            .iter()
            .any(|c| c.contains("converted from PNG to JPEG"))
    );
    assert!(out.changes.iter().any(|c| c.contains("cropped")));
    let wide = jpeg(&photo(2000, 500, 10, 9), 85);
    let out = fit(&wide, "wide.jpg", &spec(PlatformKind::Instagram, 8_000_000)).unwrap();
    assert_eq!((out.width, out.height), (955, 500), "cropped to 1.91:1");
}

#[test]
fn a_pixel_limit_downscales() {
    let data = jpeg(&photo(2000, 2000, 10, 10), 85);
    let s = Spec {
        max_pixels: Some(1_000_000),
        ..spec(PlatformKind::Linkedin, 36_000_000)
    };
    let out = fit(&data, "sq.jpg", &s).unwrap();
    assert!(u64::from(out.width) * u64::from(out.height) <= 1_000_000);
    assert_eq!(out.width, out.height);
}

#[test]
fn the_assessment_says_what_fitting_will_do() {
    let data = rgba_png(1000, 2000, 11);
    let a = assess(&data, "tall.png", &spec(PlatformKind::Instagram, 8_000_000)).unwrap();
    assert!(a.visible.iter().any(|c| c.contains("cropped")), "{a:?}");
    assert!(
        a.visible
            .iter()
            .any(|c| c.contains("converted from PNG to JPEG")),
        "{a:?}"
    );
    let small = jpeg(&photo(300, 200, 10, 12), 80);
    let a = assess(&small, "s.jpg", &spec(PlatformKind::Bluesky, 2_000_000)).unwrap();
    assert!(a.visible.is_empty(), "{a:?}");
    let a = assess(&small, "s.jpg", &spec(PlatformKind::Bluesky, 1000)).unwrap();
    assert!(a.visible[0].contains("made smaller"), "{a:?}");
}

/// A PNG header for a `w` × `h` image and nothing else.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out
}

#[test]
fn bad_images_are_clear_errors_naming_the_file() {
    let s = spec(PlatformKind::Bluesky, 10);
    let good = jpeg(&photo(300, 200, 30, 13), 90);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.jpg",
            good[..good.len() / 2].to_vec(),
            "truncated or corrupt",
        ),
        (
            "random.jpg",
            (0..5000).map(|i| (i * 7 % 251) as u8).collect(),
            "not an image",
        ),
        ("bomb.png", png_header(30_000, 30_000), "900 megapixels"),
        ("empty.png", Vec::new(), "not an image"),
        (
            "header-only.png",
            png_header(100, 100),
            "truncated or corrupt",
        ),
        (
            "huge.png",
            vec![0; (MAX_INPUT_BYTES + 1) as usize],
            "export it smaller",
        ),
    ];
    for (name, data, says) in cases {
        let e = fit(&data, name, &s).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(says), "{name}: {e}");
        if name != "header-only.png" {
            let e = assess(&data, name, &s).unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
    }
}

#[test]
fn the_format_comes_from_the_bytes_not_the_name() {
    let data = jpeg(&photo(300, 200, 10, 14), 85);
    let out = fit(
        &data,
        "really-a-jpeg.png",
        &spec(PlatformKind::Bluesky, 2_000_000),
    )
    .unwrap();
    assert_eq!(out.mime, "image/jpeg");
}

#[test]
fn a_gif_is_sent_as_it_is_or_refused() {
    let mut data = Vec::new();
    {
        let mut enc = ::image::codecs::gif::GifEncoder::new(&mut data);
        enc.encode_frame(::image::Frame::new(RgbaImage::from_pixel(
            8,
            8,
            ::image::Rgba([1, 2, 3, 255]),
        )))
        .unwrap();
    }
    let out = fit(&data, "a.gif", &spec(PlatformKind::Mastodon, 16_000_000)).unwrap();
    assert_eq!((out.data, out.mime), (None, "image/gif"));
    let e = fit(&data, "a.gif", &spec(PlatformKind::Mastodon, 10)).unwrap_err();
    assert!(
        e.to_string().contains("does not re-encode animations"),
        "{e}"
    );
}

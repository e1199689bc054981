//! Files the page hands to the reader: the shown maps as SVG or PNG, the capture as JSON.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement, HtmlImageElement, Url};

use crate::ui::cache::error;

/// Pixels per SVG unit in a PNG: sharp on high-density screens.
const PNG_SCALE: f64 = 2.0;

/// Tells the reader, in the page's notice, that `filename` could not be saved and why.
fn report(notice: RwSignal<Option<String>>, filename: &str, e: JsValue, advice: &str) {
    notice.set(Some(format!("{filename} could not be saved: {}. {advice}", error(e))));
}

/// `text` as a blob URL of type `mime`.
fn object_url(text: &str, mime: &str) -> Result<String, JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
    Url::create_object_url_with_blob(&blob)
}

/// Has the browser download `url` as `filename`.
fn download(url: &str, filename: &str) -> Result<(), JsValue> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: HtmlElement = document.create_element("a")?.dyn_into()?;
    link.set_attribute("href", url)?;
    link.set_attribute("download", filename)?;
    link.click();
    Ok(())
}

/// Saves `text` as the file `filename`; a failure is shown in `notice`.
pub fn save(filename: &str, mime: &str, text: &str, notice: RwSignal<Option<String>>) {
    let saved = object_url(text, mime).and_then(|url| {
        download(&url, filename)?;
        // The download has its own copy once started; free the blob after this task.
        let revoke = Closure::once_into_js(move || {
            let _ = Url::revoke_object_url(&url);
        });
        web_sys::window().ok_or("no window")?.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000)?;
        Ok(())
    });
    if let Err(e) = saved {
        report(notice, filename, e, "Try again, or use another export.");
    }
}

/// Saves the maps' SVG document as `name.svg`, or drawn as `name.png`.
pub fn save_maps(name: &str, svg: &str, png: bool, notice: RwSignal<Option<String>>) {
    if png {
        let (width, height) = svg_size(svg);
        save_png(&format!("{name}.png"), svg, width, height, notice);
    } else {
        save(&format!("{name}.svg"), "image/svg+xml", svg, notice);
    }
}

/// The `width` and `height` written on a document's root element.
fn svg_size(svg: &str) -> (f32, f32) {
    let attribute = |name: &str| {
        let start = svg.find(&format!(" {name}=\""))? + name.len() + 3;
        svg[start..].split('"').next()?.parse().ok()
    };
    (attribute("width").unwrap_or(800.0), attribute("height").unwrap_or(600.0))
}

/// Saves the SVG document `svg` (`width` x `height` units) drawn as a PNG; a failure (the
/// browser cannot decode the SVG, or has no canvas for its size) is shown in `notice`.
fn save_png(filename: &str, svg: &str, width: f32, height: f32, notice: RwSignal<Option<String>>) {
    let (filename, svg) = (filename.to_string(), svg.to_string());
    leptos::task::spawn_local(async move {
        if let Err(e) = draw_png(&filename, &svg, width, height).await {
            report(notice, &filename, e, "The SVG export keeps the same maps.");
        }
    });
}

async fn draw_png(filename: &str, svg: &str, width: f32, height: f32) -> Result<(), JsValue> {
    let url = object_url(svg, "image/svg+xml")?;
    let image = HtmlImageElement::new()?;
    image.set_src(&url);
    let drawn = async {
        JsFuture::from(image.decode()).await?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
        canvas.set_width((width as f64 * PNG_SCALE).ceil() as u32);
        canvas.set_height((height as f64 * PNG_SCALE).ceil() as u32);
        let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d canvas")?.dyn_into()?;
        context.scale(PNG_SCALE, PNG_SCALE)?;
        context.draw_image_with_html_image_element(&image, 0.0, 0.0)?;
        let png = canvas.to_data_url_with_type("image/png")?;
        // a canvas past the browser's size limit draws nothing and gives an empty URL
        if png == "data:," {
            return Err(JsValue::from_str("the maps are larger than a canvas of this browser can hold"));
        }
        download(&png, filename)
    }
    .await;
    let _ = Url::revoke_object_url(&url);
    drawn
}

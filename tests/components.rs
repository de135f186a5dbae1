//! Components in a real browser (headless Chromium): the screens mounted as the app mounts them,
//! typed into as an officer types, and read back from the page. Run with
//! `cargo test --target wasm32-unknown-unknown -p thidua-app` (scripts/test.sh does).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use thidua_app::households::Device;
use thidua_app::pages::Selection;
use thidua_app::session::{Role, Session, User};
use thidua_app::storage::{Store, DB_VERSION};
use thidua_app::sync::{SyncStatus, SyncTrigger};
use thidua_app::Services;
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{DataSet, Period, RecordId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn selection() -> Selection {
    Selection {
        commune: UnitCode::parse("03646").unwrap(),
        period: Period::parse("2023").unwrap(),
    }
}

/// The services the screens use, once per test binary, on a database of their own.
async fn services() -> Rc<Store> {
    thread_local! {
        static STORE: RefCell<Option<Rc<Store>>> = const { RefCell::new(None) };
    }
    if let Some(store) = STORE.with(|s| s.borrow().clone()) {
        return store;
    }
    let store = Rc::new(Store::open_named("t-components", DB_VERSION).await.unwrap());
    let device = Device::load(&store).await.unwrap();
    let session = Session {
        token: "component-test".into(),
        expires_at: i64::MAX,
        user: User {
            id: "u-test".into(),
            username: "canbo".into(),
            display_name: "Cán bộ thử".into(),
            role: Role::CommuneOfficer,
            org_unit: "03646".into(),
        },
    };
    thidua_app::install_services(Services {
        store: store.clone(),
        device,
        trigger: SyncTrigger::detached(),
        session: Rc::new(RefCell::new(session)),
    });
    STORE.with(|s| *s.borrow_mut() = Some(store.clone()));
    store
}

/// Mounts `screen` in a fresh element of the page, with the contexts the app provides.
fn mount<V: IntoView + 'static>(screen: impl FnOnce() -> V + 'static) -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        thidua_app::i18n::provide_i18n();
        provide_context(SyncStatus::new());
        screen()
    });
    handle.forget();
    host
}

async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn find(host: &web_sys::HtmlElement, selector: &str) -> web_sys::Element {
    host.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn text(host: &web_sys::HtmlElement, selector: &str) -> String {
    find(host, selector).text_content().unwrap_or_default()
}

fn all_texts(host: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let list = host.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.text_content().unwrap_or_default())
        .collect()
}

/// Types `value` into the input as a person would: the value changes, then `input` fires.
fn type_into(host: &web_sys::HtmlElement, selector: &str, value: &str) {
    let element = find(host, selector);
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    } else {
        panic!("{selector} is not a text input");
    }
    fire(&element, "input");
}

fn choose(host: &web_sys::HtmlElement, selector: &str, value: &str) {
    let element = find(host, selector);
    element
        .dyn_ref::<web_sys::HtmlSelectElement>()
        .expect("a select")
        .set_value(value);
    fire(&element, "change");
}

fn fire(element: &web_sys::Element, kind: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
    element.dispatch_event(&event).unwrap();
}

fn click(host: &web_sys::HtmlElement, selector: &str) {
    find(host, selector)
        .dyn_ref::<web_sys::HtmlElement>()
        .expect("clickable")
        .click();
}

#[wasm_bindgen_test]
async fn the_ntm_assessment_shows_each_indicators_status_live_and_keeps_a_draft() {
    let store = services().await;
    let host = mount(|| {
        view! { <thidua_app::pages::assessment::NtmAssessment selection=selection() on_back=Callback::new(|_| ())/> }
    });
    pause(50).await;
    let status_of = |code: &str| {
        text(
            &host,
            &format!("[data-testid='ntm-indicator-{code}'] [data-testid='indicator-status']"),
        )
    };
    assert_eq!(status_of("15.3"), "Chưa đánh giá");
    assert!(text(&host, "[data-testid='ntm-summary']").contains("Đạt 0/19 tiêu chí"));

    // 15.3 requires at most 24 %: 30 is not met, 20,5 (a Vietnamese decimal comma) is
    type_into(&host, "[data-testid='indicator-15.3']", "30");
    pause(10).await;
    assert_eq!(status_of("15.3"), "Chưa đạt");
    type_into(&host, "[data-testid='indicator-15.3']", "20,5");
    pause(10).await;
    assert_eq!(status_of("15.3"), "Đạt");
    // 15.4 requires at least 50 %
    type_into(&host, "[data-testid='indicator-15.4']", "49,9");
    pause(10).await;
    assert_eq!(status_of("15.4"), "Chưa đạt");
    // an indicator the province has not configured says so, whatever its value
    type_into(&host, "[data-testid='indicator-15.1']", "95");
    pause(10).await;
    assert_eq!(status_of("15.1"), "Chưa cấu hình");
    // not a number: said plainly, next to the input
    type_into(&host, "[data-testid='indicator-15.4']", "năm mươi");
    pause(10).await;
    assert!(
        all_texts(&host, "[data-testid='ntm-indicator-15.4'] .field-error")
            .iter()
            .any(|m| m.contains("Phải là một số")),
        "{:?}",
        all_texts(&host, "[data-testid='ntm-indicator-15.4'] .field-error")
    );

    // the draft is written after a pause in typing, with what was typed
    pause(900).await;
    let id = RecordId::of_unit_period(
        DataSet::NtmAssessment,
        &selection().commune,
        &selection().period,
    );
    let draft: serde_json::Value = store
        .meta(&format!("draft:ntm:{id}"))
        .await
        .unwrap()
        .expect("a draft");
    assert_eq!(draft["value"]["15.3"], serde_json::json!(20.5));
    assert_eq!(draft["value"]["15.1"].as_f64(), Some(95.0));
}

#[wasm_bindgen_test]
async fn the_household_form_names_each_missing_answer_and_classifies_as_the_officer_types() {
    services().await;
    let host = mount(|| {
        view! { <thidua_app::components::household_form::HouseholdForm selection=selection() existing=None on_done=Callback::new(|_| ())/> }
    });
    pause(50).await;
    assert!(text(&host, "[data-testid='classification']").contains("Nhập số nhân khẩu"));
    click(&host, "[data-testid='save']");
    pause(20).await;
    // the numbers the classification needs are named first, each beside its field
    assert!(text(&host, "[data-testid='error-members']").contains("chưa nhập"));
    assert!(text(&host, "[data-testid='error-income_per_person_month']").contains("chưa nhập"));

    type_into(&host, "input[name='head_name']", "Lò Văn Páo");
    type_into(&host, "input[name='village']", "Bản Hụm");
    type_into(&host, "input[name='members']", "4");
    type_into(&host, "input[name='working_age_members']", "2");
    type_into(&host, "input[name='children_under_16']", "2");
    type_into(&host, "input[name='members_16_to_30']", "0");
    // 1.200.000 đồng a person a month, rural: under the 1,5 million line
    type_into(&host, "input[name='income_per_person_month']", "1.200.000");
    pause(20).await;
    let live = text(&host, "[data-testid='classification']");
    assert!(live.contains("cận nghèo"), "{live}");
    assert!(host
        .query_selector("[data-testid='error-members']")
        .unwrap()
        .is_none());
    assert!(host
        .query_selector("[data-testid='error-income_per_person_month']")
        .unwrap()
        .is_none());
    // more children than members: named, with the field
    type_into(&host, "input[name='children_under_16']", "5");
    pause(20).await;
    assert!(!text(&host, "[data-testid='error-children_under_16']").is_empty());
}

#[wasm_bindgen_test]
async fn an_advanced_example_is_refused_until_complete_then_saved_for_sync() {
    let store = services().await;
    let host = mount(|| {
        view! { <thidua_app::pages::examples::ExampleRegister selection=selection() on_back=Callback::new(|_| ())/> }
    });
    pause(50).await;
    click(&host, "[data-testid='example-add']");
    pause(50).await;
    click(&host, "[data-testid='example-save']");
    pause(20).await;
    let errors = all_texts(&host, "[data-testid='example-form'] .field-error");
    assert!(
        errors.len() >= 4,
        "kind, title, holder and field are required: {errors:?}"
    );

    choose(&host, "[data-testid='example-kind']", "mo_hinh");
    type_into(
        &host,
        "[data-testid='example-title']",
        "Mô hình trồng mắc ca xen cà phê",
    );
    type_into(
        &host,
        "[data-testid='example-holder']",
        "Hợp tác xã Bản Hụm",
    );
    type_into(&host, "[data-testid='example-field']", "Nông nghiệp");
    type_into(
        &host,
        "[data-testid='example-description']",
        "12 hộ tham gia, thu nhập tăng 30%.",
    );
    click(&host, "[data-testid='example-save']");
    pause(200).await;
    // back on the list, with the example; on the device with its outbox entry, waiting for sync
    assert!(all_texts(&host, "[data-testid='example-title']")
        .contains(&"Mô hình trồng mắc ca xen cà phê".to_string()));
    let records = store.records_of("03646").await.unwrap();
    let example = records
        .iter()
        .find(|l| l.record.data_set == DataSet::AdvancedExample)
        .expect("stored");
    assert_eq!(example.record.fields["kind"], serde_json::json!("mo_hinh"));
    assert!(store
        .outbox()
        .await
        .unwrap()
        .iter()
        .any(|e| e.record_id == example.id));
}

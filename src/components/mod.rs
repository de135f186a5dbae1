pub mod household_form;
pub mod sync_badge;

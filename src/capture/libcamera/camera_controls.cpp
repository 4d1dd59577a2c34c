#include "camera_controls.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>
#include <vector>

#include "camera_logic.hpp"
#include "lc_compat.hpp"

namespace camstream {

namespace lc {

std::map<std::int32_t, std::string> known_enumerators(unsigned int control_id) {
  namespace controls = libcamera::controls;
#define CAMSTREAM_NAMED(value) \
  { controls::value, #value }
  static const std::map<unsigned int, std::map<std::int32_t, std::string>> known{
      {controls::AeMeteringMode.id(),
       {CAMSTREAM_NAMED(MeteringCentreWeighted), CAMSTREAM_NAMED(MeteringSpot),
        CAMSTREAM_NAMED(MeteringMatrix), CAMSTREAM_NAMED(MeteringCustom)}},
      {controls::AeConstraintMode.id(),
       {CAMSTREAM_NAMED(ConstraintNormal), CAMSTREAM_NAMED(ConstraintHighlight),
        CAMSTREAM_NAMED(ConstraintShadows), CAMSTREAM_NAMED(ConstraintCustom)}},
      {controls::AeExposureMode.id(),
       {CAMSTREAM_NAMED(ExposureNormal), CAMSTREAM_NAMED(ExposureShort),
        CAMSTREAM_NAMED(ExposureLong), CAMSTREAM_NAMED(ExposureCustom)}},
      {controls::AwbMode.id(),
       {CAMSTREAM_NAMED(AwbAuto), CAMSTREAM_NAMED(AwbIncandescent), CAMSTREAM_NAMED(AwbTungsten),
        CAMSTREAM_NAMED(AwbFluorescent), CAMSTREAM_NAMED(AwbIndoor), CAMSTREAM_NAMED(AwbDaylight),
        CAMSTREAM_NAMED(AwbCloudy), CAMSTREAM_NAMED(AwbCustom)}},
      {controls::AfMode.id(),
       {CAMSTREAM_NAMED(AfModeManual), CAMSTREAM_NAMED(AfModeAuto),
        CAMSTREAM_NAMED(AfModeContinuous)}},
      {controls::AfRange.id(),
       {CAMSTREAM_NAMED(AfRangeNormal), CAMSTREAM_NAMED(AfRangeMacro),
        CAMSTREAM_NAMED(AfRangeFull)}},
      {controls::AfSpeed.id(), {CAMSTREAM_NAMED(AfSpeedNormal), CAMSTREAM_NAMED(AfSpeedFast)}},
      {controls::AfMetering.id(),
       {CAMSTREAM_NAMED(AfMeteringAuto), CAMSTREAM_NAMED(AfMeteringWindows)}},
      {controls::AfTrigger.id(),
       {CAMSTREAM_NAMED(AfTriggerStart), CAMSTREAM_NAMED(AfTriggerCancel)}},
      {controls::AfPause.id(),
       {CAMSTREAM_NAMED(AfPauseImmediate), CAMSTREAM_NAMED(AfPauseDeferred),
        CAMSTREAM_NAMED(AfPauseResume)}},
  };
#undef CAMSTREAM_NAMED
  const auto found = known.find(control_id);
  return found != known.end() ? found->second : std::map<std::int32_t, std::string>{};
}

}  // namespace lc

namespace {

// A float as the shortest decimal that reads back as it (0.1f is 0.1, not 0.100000001).
double float_as_double(float value) {
  std::array<char, 32> text{};
  const auto [end, error] = std::to_chars(text.data(), text.data() + text.size(), value);
  double result = value;
  if (error == std::errc{}) std::from_chars(text.data(), end, result);
  return result;
}

std::optional<std::int64_t> integer_of(const libcamera::ControlValue& value) {
  if (value.isArray()) return std::nullopt;
  switch (value.type()) {
    case libcamera::ControlTypeByte:
      return value.get<std::uint8_t>();
    case libcamera::ControlTypeInteger32:
      return value.get<std::int32_t>();
    case libcamera::ControlTypeInteger64:
      return value.get<std::int64_t>();
    default:
      return std::nullopt;
  }
}

std::optional<double> float_of(const libcamera::ControlValue& value) {
  if (value.isArray() || value.type() != libcamera::ControlTypeFloat) return std::nullopt;
  return float_as_double(value.get<float>());
}

std::optional<bool> bool_of(const libcamera::ControlValue& value) {
  if (value.isArray() || value.type() != libcamera::ControlTypeBool) return std::nullopt;
  return value.get<bool>();
}

template <typename Number>
std::pair<Number, Number> type_limits(libcamera::ControlType type) {
  if constexpr (std::is_same_v<Number, double>) {
    return {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
  } else {
    switch (type) {
      case libcamera::ControlTypeByte:
        return {0, std::numeric_limits<std::uint8_t>::max()};
      case libcamera::ControlTypeInteger32:
        return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
      default:
        return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
    }
  }
}

// min, max and default of a number control; a bound the camera leaves unset is the type's.
template <typename Number, typename Read>
ControlInfo number_control(ControlType type, libcamera::ControlType libcamera_type,
                           const libcamera::ControlInfo& info, Read read) {
  const auto [lowest, highest] = type_limits<Number>(libcamera_type);
  const Number min = read(info.min()).value_or(lowest);
  const Number max = std::max(min, read(info.max()).value_or(highest));
  const Number default_value = std::clamp(read(info.def()).value_or(min), min, max);
  return ControlInfo{type, min, max, default_value, default_value, {}};
}

// An enumeration when every value it takes has a name; none otherwise (it is then an int).
std::optional<ControlInfo> enum_control(const libcamera::ControlInfo& info,
                                        const std::map<std::int32_t, std::string>& names) {
  if (names.empty()) return std::nullopt;
  std::vector<std::int32_t> values;
  for (const auto& value : info.values()) {
    const auto number = integer_of(value);
    if (!number) return std::nullopt;
    values.push_back(static_cast<std::int32_t>(*number));
  }
  if (values.empty()) {
    // No list: the names between min and max.
    const auto min = integer_of(info.min()).value_or(names.begin()->first);
    const auto max = integer_of(info.max()).value_or(names.rbegin()->first);
    for (const auto& [number, name] : names) {
      if (number >= min && number <= max) values.push_back(number);
    }
  }
  ControlInfo control{ControlType::enumeration, {}, {}, {}, {}, {}};
  for (const std::int32_t number : values) {
    const auto name = names.find(number);
    if (name == names.end()) return std::nullopt;
    control.enum_names.push_back(name->second);
  }
  if (control.enum_names.empty()) return std::nullopt;
  control.min = control.enum_names.front();
  control.max = control.enum_names.back();
  control.default_value = control.enum_names.front();
  if (const auto def = integer_of(info.def())) {
    const auto name = names.find(static_cast<std::int32_t>(*def));
    if (name != names.end() && std::find(control.enum_names.begin(), control.enum_names.end(),
                                         name->second) != control.enum_names.end()) {
      control.default_value = name->second;
    }
  }
  control.value = control.default_value;
  return control;
}

}  // namespace

CameraControls::CameraControls(const libcamera::ControlInfoMap& info,
                               std::optional<libcamera::Rectangle> zoom_maximum) {
  for (const auto& [id, control_info] : info) {
    if (id->id() == libcamera::controls::FrameDurationLimits.id()) continue;  // --fps
    if (id->id() == libcamera::controls::ScalerCrop.id()) {
      if (zoom_maximum && !zoom_maximum->isNull()) {
        zoom_maximum_ = zoom_maximum;
        offered_[kZoomControl] =
            ControlInfo{ControlType::floating,  camera_logic::kMinZoom, camera_logic::kMaxZoom,
                        camera_logic::kMinZoom, camera_logic::kMinZoom, {}};
      }
      continue;
    }
    if (lc::is_array_control(*id) || !lc::is_input_control(*id)) continue;
    if (control_info.def().isArray() || control_info.min().isArray()) continue;

    Target target{id, {}};
    std::optional<ControlInfo> described;
    switch (id->type()) {
      case libcamera::ControlTypeBool: {
        const bool default_value = bool_of(control_info.def()).value_or(false);
        described =
            ControlInfo{ControlType::boolean, false, true, default_value, default_value, {}};
        break;
      }
      case libcamera::ControlTypeByte:
      case libcamera::ControlTypeInteger32:
      case libcamera::ControlTypeInteger64: {
        const auto names = id->type() == libcamera::ControlTypeInteger32
                               ? lc::enumerators_of(*id)
                               : std::map<std::int32_t, std::string>{};
        described = enum_control(control_info, names);
        if (described) {
          for (const auto& [number, name] : names) target.enum_values.emplace(name, number);
        } else {
          described = number_control<std::int64_t>(ControlType::integer, id->type(), control_info,
                                                   integer_of);
        }
        break;
      }
      case libcamera::ControlTypeFloat:
        described =
            number_control<double>(ControlType::floating, id->type(), control_info, float_of);
        break;
      default:  // text, rectangles, sizes, points: nothing a slider or a menu can set
        break;
    }
    if (!described) continue;
    offered_[id->name()] = std::move(*described);
    targets_[id->name()] = std::move(target);
  }
}

ControlMap CameraControls::with_values(const std::map<std::string, ControlValue>& values) const {
  ControlMap controls = offered_;
  for (const auto& [name, value] : values) {
    if (const auto found = controls.find(name); found != controls.end()) {
      found->second.value = value;
    }
  }
  return controls;
}

void CameraControls::add_to(libcamera::ControlList& list,
                            const std::map<std::string, ControlValue>& values) const {
  for (const auto& [name, value] : values) {
    if (name == kZoomControl && zoom_maximum_) {
      const auto* zoom = std::get_if<double>(&value);
      if (zoom == nullptr) continue;
      const camera_logic::Rect crop = camera_logic::zoom_crop(
          {zoom_maximum_->x, zoom_maximum_->y, zoom_maximum_->width, zoom_maximum_->height}, *zoom);
      list.set(libcamera::controls::ScalerCrop.id(), libcamera::ControlValue(libcamera::Rectangle(
                                                         crop.x, crop.y, crop.width, crop.height)));
      continue;
    }
    const auto target = targets_.find(name);
    if (target == targets_.end()) continue;
    const libcamera::ControlId& id = *target->second.id;
    libcamera::ControlValue converted;
    if (const auto* flag = std::get_if<bool>(&value)) {
      converted = libcamera::ControlValue(*flag);
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      if (id.type() == libcamera::ControlTypeInteger64) {
        converted = libcamera::ControlValue(*number);
      } else if (id.type() == libcamera::ControlTypeByte) {
        converted = libcamera::ControlValue(static_cast<std::uint8_t>(*number));
      } else {
        converted = libcamera::ControlValue(static_cast<std::int32_t>(*number));
      }
    } else if (const auto* real = std::get_if<double>(&value)) {
      converted = libcamera::ControlValue(static_cast<float>(*real));
    } else {
      const auto enum_value = target->second.enum_values.find(std::get<std::string>(value));
      if (enum_value == target->second.enum_values.end()) continue;
      converted = libcamera::ControlValue(enum_value->second);
    }
    list.set(id.id(), converted);
  }
}

std::optional<libcamera::Rectangle> zoom_maximum_of(const libcamera::Camera& camera) {
  const auto& controls = camera.controls();
  const auto crop = controls.find(&libcamera::controls::ScalerCrop);
  if (crop == controls.end()) return std::nullopt;
  if (const auto maximum = camera.properties().get(libcamera::properties::ScalerCropMaximum)) {
    if (!maximum->isNull()) return *maximum;
  }
  const libcamera::ControlValue& max = crop->second.max();
  if (max.type() == libcamera::ControlTypeRectangle && !max.isArray()) {
    return max.get<libcamera::Rectangle>();
  }
  return std::nullopt;
}

ControlMap SourceControls::controls() const {
  std::lock_guard lock(mutex_);
  return camera_.with_values(values_);
}

std::optional<ControlError> SourceControls::set(const std::map<std::string, ControlValue>& values) {
  std::lock_guard lock(mutex_);
  CheckedControls checked = check_controls(camera_.with_values(values_), values);
  if (checked.error) return checked.error;
  for (auto& [name, value] : checked.values) {
    values_[name] = value;
    changes_[name] = std::move(value);
  }
  return std::nullopt;
}

void SourceControls::add_all_to(libcamera::ControlList& list) {
  std::lock_guard lock(mutex_);
  changes_.clear();
  camera_.add_to(list, values_);
}

void SourceControls::add_changes_to(libcamera::ControlList& list) {
  std::lock_guard lock(mutex_);
  if (changes_.empty()) return;
  camera_.add_to(list, changes_);
  changes_.clear();
}

void SourceControls::adopt_configured(CameraControls configured) {
  std::lock_guard lock(mutex_);
  std::erase_if(values_, [&](const auto& value) {
    if (!check_controls(configured.offered(), {value}).error) return false;
    changes_.erase(value.first);
    return true;
  });
  camera_ = std::move(configured);
}

}  // namespace camstream

#include "billing/tz.hpp"

#include <algorithm>
#include <cstdio>

namespace billing {

namespace {

std::int64_t be(std::string_view b, std::size_t pos, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(b[pos + i]);
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
}

struct Header {
    char version = 0;
    std::size_t isut, isstd, leap, time, type, chars;
    // Size of the data block that follows the header, with `tsize`-byte times.
    std::size_t block(std::size_t tsize) const {
        return time * tsize + time + type * 6 + chars + leap * (tsize + 4) + isstd + isut;
    }
};

bool read_header(std::string_view b, std::size_t pos, Header& h) {
    if (b.size() < pos + 44 || b.substr(pos, 4) != "TZif") return false;
    h.version = b[pos + 4];
    std::size_t* f[] = {&h.isut, &h.isstd, &h.leap, &h.time, &h.type, &h.chars};
    for (int i = 0; i < 6; ++i) *f[i] = static_cast<std::uint32_t>(be(b, pos + 20 + 4 * i, 4));
    return true;
}

}  // namespace

Result<TimeZone> TimeZone::from_tzif(std::string name, std::string_view b) {
    Header h;
    if (!read_header(b, 0, h))
        return fail(ErrorCode::invalid_argument, "time zone " + name + ": not TZif data", "timezone");
    std::size_t pos = 44, tsize = 4;
    if (h.version >= '2') {  // skip the 32-bit block; use the 64-bit one
        pos += h.block(4);
        if (!read_header(b, pos, h))
            return fail(ErrorCode::invalid_argument, "time zone " + name + ": truncated TZif data",
                        "timezone");
        pos += 44;
        tsize = 8;
    }
    if (h.type == 0 || b.size() < pos + h.block(tsize))
        return fail(ErrorCode::invalid_argument, "time zone " + name + ": truncated TZif data",
                    "timezone");
    const std::size_t idx = pos + h.time * tsize, types = idx + h.time;
    TimeZone z;
    z.name_ = std::move(name);
    z.initial_ = static_cast<std::int32_t>(be(b, types, 4));
    for (std::size_t i = 0; i < h.time; ++i) {
        const auto t = static_cast<unsigned char>(b[idx + i]);
        if (t >= h.type)
            return fail(ErrorCode::invalid_argument, "time zone " + z.name_ + ": bad TZif type index",
                        "timezone");
        z.at_.push_back(be(b, pos + i * tsize, tsize));
        z.offset_.push_back(static_cast<std::int32_t>(be(b, types + t * 6, 4)));
    }
    return z;
}

TimeZone TimeZone::fixed(std::int32_t offset_s) {
    TimeZone z;
    z.initial_ = offset_s;
    if (offset_s == 0) {
        z.name_ = "UTC";
    } else {
        const std::int32_t a = offset_s < 0 ? -offset_s : offset_s;
        char buf[32];
        std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+', a / 3600,
                      a / 60 % 60);
        z.name_ = buf;
    }
    return z;
}

std::int32_t TimeZone::offset_s_at(Timestamp ms) const {
    const std::int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    // The last transition at or before s.
    const auto it = std::upper_bound(at_.begin(), at_.end(), s);
    if (it == at_.begin()) return initial_;
    return offset_[static_cast<std::size_t>(it - at_.begin() - 1)];
}

}  // namespace billing

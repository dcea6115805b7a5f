#include "route/reg/location.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <new>
#include <stdexcept>
#include <utility>

#include "sip/headers.hpp"

namespace route::reg {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::size_t hash_of(std::string_view aor) {
    return std::hash<std::string_view>{}(aor);
}

}  // namespace

// One binding in one block from operator new: this header, then one std::uint32_t end offset
// per field (kFixed fields, then the Path values), then the fields' bytes end to end. One
// allocation instead of a dozen std::string/vector/map/set nodes is the issue 13 saving.
struct Location::Rec {
    enum Field : std::uint32_t { kAor, kContact, kKey, kCallId, kInstance, kHost, kTls, kFixed };
    enum Flag : std::uint8_t { kHasQ = 1, kHasRegId = 2, kDown = 4, kViaNat = 8 };

    Rec* next = nullptr;  // the AOR's next binding, in the order they were added
    sip::Instant expires_at{};
    std::uint64_t conn = 0;
    std::uint32_t heap_pos = 0;  // index in heap_, kept by heap_place()
    std::uint32_t cseq = 0;
    std::uint32_t reg_id = 0;
    std::uint32_t npath = 0;
    std::uint32_t txn_hash = 0;
    std::uint16_t q = 0;
    std::uint16_t port = 0;
    sip::Transport transport = sip::Transport::Udp;
    std::uint8_t flags = 0;

    const char* ends() const { return reinterpret_cast<const char*>(this) + sizeof(Rec); }
    std::uint32_t end(std::uint32_t f) const {
        std::uint32_t v;  // memcpy: the offsets are bytes of the block, not objects
        std::memcpy(&v, ends() + f * sizeof v, sizeof v);
        return v;
    }
    std::string_view field(std::uint32_t f) const {
        const char* text = ends() + (kFixed + npath) * sizeof(std::uint32_t);
        const std::uint32_t from = f == 0 ? 0 : end(f - 1);
        return {text + from, end(f) - from};
    }
    std::string_view aor() const { return field(kAor); }
    // Stored only when it differs from the contact (a plain sip:user@host:port is its own key).
    std::string_view key() const {
        const std::string_view k = field(kKey);
        return k.empty() ? field(kContact) : k;
    }
    bool has(Flag f) const { return (flags & f) != 0; }
    void set(Flag f, bool on) { flags = static_cast<std::uint8_t>(on ? flags | f : flags & ~f); }

    static Rec* make(std::string_view aor, const Binding& b, std::string_view key);
    static void free(Rec* r) noexcept {
        r->~Rec();
        ::operator delete(r);
    }
    Binding binding() const;
};

Location::Rec* Location::Rec::make(std::string_view aor, const Binding& b, std::string_view key) {
    if (key == b.contact) key = {};
    const std::string_view fixed[kFixed] = {
        aor, b.contact, key, b.call_id, b.instance, b.source.host, b.source.tls_name};
    const std::size_t fields = kFixed + b.path.size();
    std::size_t bytes = 0;
    for (std::string_view f : fixed)
        bytes += f.size();
    for (const std::string& p : b.path)
        bytes += p.size();
    if (bytes > UINT32_MAX || fields > UINT32_MAX) throw std::length_error("binding too large");
    const std::size_t head = sizeof(Rec) + fields * sizeof(std::uint32_t);
    char* mem = static_cast<char*>(::operator new(head + bytes));
    Rec* r = new (mem) Rec;
    r->expires_at = b.expires_at;
    r->conn = b.source.conn;
    r->cseq = b.cseq;
    r->reg_id = b.reg_id.value_or(0);
    r->npath = static_cast<std::uint32_t>(b.path.size());
    r->txn_hash = b.txn_hash;
    r->q = b.q.value_or(0);
    r->port = b.source.port;
    r->transport = b.source.transport;
    r->set(kHasQ, b.q.has_value());
    r->set(kHasRegId, b.reg_id.has_value());
    r->set(kDown, b.down);
    r->set(kViaNat, b.via_nat);
    std::uint32_t at = 0;
    auto put = [&](std::size_t i, std::string_view f) {
        if (!f.empty()) std::memcpy(mem + head + at, f.data(), f.size());
        at += static_cast<std::uint32_t>(f.size());
        std::memcpy(mem + sizeof(Rec) + i * sizeof at, &at, sizeof at);
    };
    for (std::size_t i = 0; i < kFixed; ++i)
        put(i, fixed[i]);
    for (std::size_t i = 0; i < b.path.size(); ++i)
        put(kFixed + i, b.path[i]);
    return r;
}

Binding Location::Rec::binding() const {
    Binding b;
    b.contact = field(kContact);
    if (has(kHasQ)) b.q = q;
    b.expires_at = expires_at;
    b.call_id = field(kCallId);
    b.cseq = cseq;
    b.path.reserve(npath);
    for (std::uint32_t i = 0; i < npath; ++i)
        b.path.emplace_back(field(kFixed + i));
    b.source = {transport, std::string(field(kHost)), port, conn, std::string(field(kTls))};
    b.instance = field(kInstance);
    if (has(kHasRegId)) b.reg_id = reg_id;
    b.down = has(kDown);
    b.via_nat = has(kViaNat);
    b.txn_hash = txn_hash;
    return b;
}

Location::~Location() {
    clear();
}

Location::Location(Location&& o) noexcept
    : config_(o.config_),
      table_(std::exchange(o.table_, {})),
      aors_(std::exchange(o.aors_, 0)),
      heap_(std::exchange(o.heap_, {})),
      events_(std::move(o.events_)) {}

Location& Location::operator=(Location&& o) noexcept {
    if (this == &o) return *this;
    clear();
    config_ = o.config_;
    table_ = std::exchange(o.table_, {});
    aors_ = std::exchange(o.aors_, 0);
    heap_ = std::exchange(o.heap_, {});
    events_ = std::move(o.events_);
    return *this;
}

void Location::clear() {
    for (Rec* r : heap_)
        Rec::free(r);  // the heap holds every binding exactly once
    heap_ = {};
    table_ = {};
    aors_ = 0;
}

std::string Location::contact_key(std::string_view uri) {
    sip::Result<sip::Uri> u = sip::parse_uri(uri);
    if (!u || !u->is_sip()) return std::string(uri);  // other schemes: exact text
    // RFC 3261 §19.1.4: scheme and host compare case-insensitively, user case-sensitively
    // (after unescaping); a transport parameter present in either must match.
    std::string key = lower(u->scheme_name);
    key += ':';
    key += sip::unescape(u->user);
    key += '@';
    key += lower(u->host);
    if (u->has_port) {
        key += ':';
        key += std::to_string(u->port);
    }
    if (auto t = u->param("transport")) {
        key += ";transport=";
        key += lower(*t);
    }
    return key;
}

// --- the AOR table: linear probing, at most 3/4 full, so a probe always ends at a free slot

std::size_t Location::slot_of(std::string_view aor) const {
    const std::size_t mask = table_.size() - 1;
    std::size_t i = hash_of(aor) & mask;
    while (table_[i] && table_[i]->aor() != aor)
        i = (i + 1) & mask;
    return i;
}

Location::Rec* Location::first(std::string_view aor) const {
    return table_.empty() ? nullptr : table_[slot_of(aor)];
}

Location::Rec* Location::match(std::string_view aor, std::string_view key) const {
    Rec* r = first(aor);
    while (r && r->key() != key)
        r = r->next;
    return r;
}

void Location::reserve_aor() {
    if ((aors_ + 1) * 4 <= table_.size() * 3) return;
    std::vector<Rec*> old =
        std::exchange(table_, std::vector<Rec*>(std::max<std::size_t>(16, table_.size() * 2)));
    for (Rec* r : old)
        if (r) table_[slot_of(r->aor())] = r;
}

void Location::erase_slot(std::size_t i) {
    // Backward-shift deletion: later entries of the probe run move into the hole when their
    // home slot does not lie between the hole and them, so no tombstones are needed.
    const std::size_t mask = table_.size() - 1;
    table_[i] = nullptr;
    --aors_;
    for (std::size_t j = (i + 1) & mask; table_[j]; j = (j + 1) & mask) {
        const std::size_t home = hash_of(table_[j]->aor()) & mask;
        if (((j - home) & mask) < ((j - i) & mask)) continue;
        table_[i] = std::exchange(table_[j], nullptr);
        i = j;
    }
}

// --- the expiry heap: (expires_at, AOR, contact key), the order of the old index

bool Location::heap_less(const Rec* a, const Rec* b) const {
    if (a->expires_at != b->expires_at) return a->expires_at < b->expires_at;
    if (const int c = a->aor().compare(b->aor()); c != 0) return c < 0;
    return a->key() < b->key();
}

void Location::heap_place(Rec* r, std::size_t i) {
    heap_[i] = r;
    r->heap_pos = static_cast<std::uint32_t>(i);
}

void Location::heap_fix(std::size_t i) {
    Rec* r = heap_[i];
    while (i > 0 && heap_less(r, heap_[(i - 1) / 2])) {
        heap_place(heap_[(i - 1) / 2], i);
        i = (i - 1) / 2;
    }
    for (std::size_t c = 2 * i + 1; c < heap_.size(); c = 2 * i + 1) {
        if (c + 1 < heap_.size() && heap_less(heap_[c + 1], heap_[c])) ++c;
        if (!heap_less(heap_[c], r)) break;
        heap_place(heap_[c], i);
        i = c;
    }
    heap_place(r, i);
}

void Location::heap_push(Rec* r) {
    heap_.push_back(r);
    heap_fix(heap_.size() - 1);
}

void Location::heap_erase(Rec* r) {
    const std::size_t i = r->heap_pos;
    Rec* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    heap_place(last, i);
    heap_fix(i);
}

void Location::unlink(Rec* r) {
    const std::size_t i = slot_of(r->aor());
    Rec** link = &table_[i];
    while (*link != r)
        link = &(*link)->next;
    *link = r->next;
    if (!table_[i]) erase_slot(i);
    heap_erase(r);
}

// --- the API

std::vector<Binding> Location::lookup(std::string_view aor, sip::Instant now) const {
    std::vector<Binding> out;
    for (const Rec* r = first(aor); r; r = r->next) {
        if (r->expires_at > now) out.push_back(r->binding());  // gone at its instant
    }
    std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
        if (a.down != b.down) return !a.down;  // down contacts are tried last
        if (a.q_or_default() != b.q_or_default()) return a.q_or_default() > b.q_or_default();
        return a.expires_at > b.expires_at;
    });
    return out;
}

std::optional<Binding> Location::find(std::string_view aor, std::string_view contact,
                                      sip::Instant now) const {
    const Rec* r = match(aor, contact_key(contact));
    if (!r || r->expires_at <= now) return std::nullopt;
    return r->binding();
}

bool Location::upsert(std::string_view aor, Binding b) {
    const std::string key = contact_key(b.contact);
    Rec** link = table_.empty() ? nullptr : &table_[slot_of(aor)];
    std::size_t n = 0;
    for (; link && *link; link = &(*link)->next, ++n) {
        Rec* old = *link;
        if (old->key() != key) continue;
        Rec* r = Rec::make(aor, b, key);  // replaced in place: keeps its rank among equals
        r->set(Rec::kDown, false);        // a fresh REGISTER proves the device is reachable
        r->next = old->next;
        *link = r;
        heap_place(r, old->heap_pos);
        heap_fix(r->heap_pos);
        Rec::free(old);
        return true;
    }
    if (n >= config_.max_bindings_per_aor) return false;
    if (n == 0) reserve_aor();  // before anything changes: it may throw
    Rec* r = Rec::make(aor, b, key);
    try {
        heap_push(r);
    } catch (...) {
        Rec::free(r);
        throw;
    }
    if (n > 0) {
        *link = r;
    } else {
        table_[slot_of(aor)] = r;
        ++aors_;
    }
    return true;
}

bool Location::set_down(std::string_view aor, std::string_view contact, bool down) {
    Rec* r = match(aor, contact_key(contact));
    if (r) r->set(Rec::kDown, down);
    return r != nullptr;
}

bool Location::remove(std::string_view aor, std::string_view contact) {
    Rec* r = match(aor, contact_key(contact));
    if (!r) return false;
    unlink(r);
    Rec::free(r);
    return true;
}

std::size_t Location::remove_all(std::string_view aor) {
    if (table_.empty()) return 0;
    const std::size_t i = slot_of(aor);
    std::size_t n = 0;
    for (Rec* r = table_[i]; r; ++n) {
        Rec* next = r->next;
        heap_erase(r);
        Rec::free(r);
        r = next;
    }
    if (n > 0) erase_slot(i);
    return n;
}

std::optional<sip::Instant> Location::next_deadline() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front()->expires_at;
}

void Location::handle_timeouts(sip::Instant now) {
    while (!heap_.empty() && heap_.front()->expires_at <= now) {
        Rec* r = heap_.front();
        events_.push_back(
            LocationEvent{LocationEvent::Kind::Expired, std::string(r->aor()), r->binding()});
        unlink(r);
        Rec::free(r);
    }
}

std::optional<LocationEvent> Location::poll() {
    if (events_.empty()) return std::nullopt;
    LocationEvent ev = std::move(events_.front());
    events_.pop_front();
    return ev;
}

Snapshot Location::snapshot(sip::Instant now) const {
    std::vector<const Rec*> firsts;  // one per AOR; sorted, as the old std::map iterated
    firsts.reserve(aors_);
    for (const Rec* r : table_)
        if (r) firsts.push_back(r);
    std::sort(firsts.begin(), firsts.end(),
              [](const Rec* a, const Rec* b) { return a->aor() < b->aor(); });
    Snapshot out;
    out.reserve(heap_.size());
    for (const Rec* f : firsts) {
        for (const Rec* r = f; r; r = r->next) {
            if (r->expires_at <= now) continue;
            out.push_back(
                SnapshotBinding{std::string(r->aor()), r->binding(), r->expires_at - now});
        }
    }
    return out;
}

void Location::restore(const Snapshot& snap, sip::Instant now) {
    clear();
    for (const SnapshotBinding& s : snap) {
        if (s.remaining <= sip::Duration::zero()) continue;
        Binding b = s.binding;
        b.expires_at = now + s.remaining;
        upsert(s.aor, std::move(b));
    }
}

}  // namespace route::reg

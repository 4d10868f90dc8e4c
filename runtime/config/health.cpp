#include "runtime/config/health.hpp"

#include "runtime/certs/certs.hpp"

#include <cstdio>

namespace router::config {

namespace {

/// Fills in the days left and the expiring flag of a judged row.
void count_days_left(certificate_health& row, const Botan::X509_Certificate& certificate,
                     std::chrono::system_clock::time_point now, int warning_days) {
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(certs::not_after(certificate) - now).count();
  row.days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
  row.expiring = row.verdict.state == certs::usability::usable && row.days_left < warning_days;
}

certificate_health judge(const std::string& owner, const std::string& file, const std::string& address,
                         const Botan::X509_Certificate& certificate, certs::purpose use,
                         const loaded_config& config, std::chrono::system_clock::time_point now,
                         int warning_days) {
  certificate_health row;
  row.owner = owner;
  row.purpose = use == certs::purpose::sign ? "signing" : "encryption";
  row.file = file;
  row.address = address;
  row.verdict = certs::check_usability(certificate, use, address, config.trust, now);
  count_days_left(row, certificate, now, warning_days);
  return row;
}

certificate_health judge_tls_server(const std::string& file, const Botan::X509_Certificate& certificate,
                                    std::chrono::system_clock::time_point now, int warning_days) {
  certificate_health row;
  row.owner = "reception.tls";
  row.purpose = "TLS server";
  row.file = file;
  row.verdict = certs::check_tls_server_usability(certificate, now);
  count_days_left(row, certificate, now, warning_days);
  return row;
}

} // namespace

std::vector<certificate_health> check_certificate_health(const loaded_config& config,
                                                         std::chrono::system_clock::time_point now,
                                                         int warning_days) {
  std::vector<certificate_health> rows;
  if (config.device_certificate)
    rows.push_back(judge("device", config.settings.device().certificate_file(),
                         config.settings.device().sender_address(), *config.device_certificate,
                         certs::purpose::sign, config, now, warning_days));

  for (const auto& entry : config.settings.address_book()) {
    const auto found = config.destination_certificates.find(entry.id());
    if (found == config.destination_certificates.end())
      continue;
    rows.push_back(judge("address_book '" + entry.id() + "'", entry.certificate_file(), entry.address(),
                         found->second, certs::purpose::encrypt, config, now, warning_days));
  }

  if (config.reception_tls_certificate)
    rows.push_back(judge_tls_server(config.settings.reception().tls().certificate_file(),
                                    *config.reception_tls_certificate, now, warning_days));
  return rows;
}

std::string format_certificate_health(const std::vector<certificate_health>& rows, int warning_days) {
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "%-26s %-10s %-32s %-17s %9s  %s\n", "certificate", "purpose", "address",
                "state", "days left", "file");
  text += line;
  for (const auto& row : rows) {
    std::snprintf(line, sizeof line, "%-26s %-10s %-32s %-17s %9lld  %s\n", row.owner.c_str(), row.purpose.c_str(),
                  row.address.empty() ? "-" : row.address.c_str(), certs::to_string(row.verdict.state).c_str(),
                  static_cast<long long>(row.days_left), row.file.c_str());
    text += line;
  }

  for (const auto& row : rows) {
    if (row.verdict.state != certs::usability::usable)
      text += "error: " + row.owner + ": " + row.verdict.detail + "\n";
    else if (row.expiring)
      text += "warning: " + row.owner + ": expires in " + std::to_string(row.days_left) + " days (within " +
              std::to_string(warning_days) + "); renew it before then\n";
  }
  return text;
}

} // namespace router::config

using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Features.Organisation;
using Portal.Core.Common;

namespace Portal.Core.Features.Email;

/// <summary>
/// The one way to send email: a message is a row added to the caller's own save, so it exists exactly when the change
/// that caused it was committed, and the sender (<see cref="EmailDispatcher"/>) takes it from there. No page waits for
/// a mail server.
/// </summary>
public sealed class EmailOutbox
{
    internal WakeSignal Signal { get; } = new();

    public void Add(PortalDbContext db, EmailContent content, DateTimeOffset now) =>
        db.EmailOutbox.Add(new EmailOutboxMessage
        {
            To = content.To,
            Subject = content.Subject,
            TextBody = content.TextBody,
            HtmlBody = content.HtmlBody,
            CreatedAt = now,
            NextAttemptAt = now,
        });

    /// <summary>Call after the save that added messages: the sender starts at once instead of at its next poll.</summary>
    public void Wake() => Signal.Wake();
}

/// <summary>
/// A message in the organisation's name: a heading, paragraphs, and at most one button-like link. Every value is
/// HTML-escaped in the HTML body; the text body carries the same words and the link in full.
/// </summary>
public sealed record EmailTemplate(string Subject, string Heading, IReadOnlyList<string> Paragraphs, string? LinkText = null, string? LinkUrl = null,
    IReadOnlyList<string>? Footer = null)
{
    public static async Task<EmailBrand> BrandAsync(PortalDbContext db, CancellationToken ct)
    {
        var org = await db.Organisation.AsNoTracking().FirstOrDefaultAsync(o => o.Id == OrganisationProfile.SingletonId, ct);
        return new EmailBrand(org?.Name is { Length: > 0 } name ? name : "Portal", org?.LogoUrl);
    }

    public EmailContent Render(string to, EmailBrand brand)
    {
        var text = new StringBuilder();
        text.AppendLine(Heading).AppendLine();
        foreach (var p in Paragraphs) text.AppendLine(p).AppendLine();
        if (LinkUrl is not null) text.AppendLine($"{LinkText}: {LinkUrl}").AppendLine();
        foreach (var f in Footer ?? []) text.AppendLine(f);
        text.AppendLine($"— {brand.Name}");

        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(E(Subject)).Append("</title></head>")
            .Append("<body style=\"font-family:Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2937;background:#f5f6fa;margin:0;padding:24px\">")
            .Append("<div style=\"max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px\">");
        if (brand.LogoUrl is { } logo && Uri.TryCreate(logo, UriKind.Absolute, out var logoUri) && logoUri.Scheme is "https" or "http")
            html.Append("<img src=\"").Append(E(logoUri.AbsoluteUri)).Append("\" alt=\"").Append(E(brand.Name)).Append("\" style=\"max-height:48px\"><br>");
        html.Append("<p style=\"color:#6b7280;margin:0 0 16px\">").Append(E(brand.Name)).Append("</p>")
            .Append("<h1 style=\"font-size:20px\">").Append(E(Heading)).Append("</h1>");
        foreach (var p in Paragraphs) html.Append("<p>").Append(E(p)).Append("</p>");
        if (LinkUrl is not null)
            html.Append("<p><a href=\"").Append(E(LinkUrl)).Append("\" style=\"display:inline-block;background:#3f51b5;color:#fff;padding:10px 16px;border-radius:4px;text-decoration:none\">")
                .Append(E(LinkText ?? LinkUrl)).Append("</a></p>")
                .Append("<p style=\"font-size:12px;color:#6b7280\">Or copy this address: ").Append(E(LinkUrl)).Append("</p>");
        foreach (var f in Footer ?? []) html.Append("<p style=\"font-size:12px;color:#6b7280\">").Append(E(f)).Append("</p>");
        html.Append("</div></body></html>");
        return new EmailContent(to, Subject, text.ToString(), html.ToString());
    }
}

public sealed record EmailBrand(string Name, string? LogoUrl);

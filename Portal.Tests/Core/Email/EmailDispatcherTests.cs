using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using netDumbster.smtp;
using Portal.Core.Features.Email;
using Portal.Tests.Core.Profile;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Email;

/// <summary>The outbox and its sender, through a real SMTP server on loopback (netDumbster) and through the pickup folder.</summary>
public sealed class EmailDispatcherTests : IAsyncLifetime
{
    private readonly int _port = FreePort();
    private readonly string _pickup = Path.Combine(Path.GetTempPath(), $"portal-mail-{Guid.NewGuid():N}");
    private TestDatabase _smtpDb = null!;

    public async ValueTask InitializeAsync() =>
        _smtpDb = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o =>
        {
            o.Email.Smtp.Host = "127.0.0.1";
            o.Email.Smtp.Port = _port;
            o.Email.Smtp.Tls = SmtpTls.None;
            o.Email.Smtp.From = "portal@portal.test";
        }));

    public async ValueTask DisposeAsync()
    {
        await _smtpDb.DisposeAsync();
        if (Directory.Exists(_pickup)) Directory.Delete(_pickup, recursive: true);
    }

    private static EmailContent Message(string to = "ada@portal.test") =>
        new EmailTemplate("Hello <there>", "Hi <b>Ada</b> & co", ["Your app \"<script>alert(1)</script>\" is ready."], "Open it", "https://portal.test/x?a=1&b=2")
            .Render(to, new EmailBrand("Acme <Org>", "https://cdn.test/logo.png"));

    private async Task QueueAsync(TestDatabase database, EmailContent content)
    {
        await using var db = await database.OpenAsync();
        database.Get<EmailOutbox>().Add(db, content, database.Clock.GetUtcNow());
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Send_ThroughARealSmtpServer_ArrivesInTextAndEscapedHtml_AndTheBodiesLeaveTheDatabase()
    {
        using var server = SimpleSmtpServer.Start(_port);
        await QueueAsync(_smtpDb, Message());

        Assert.Equal(1, await _smtpDb.Get<EmailDispatcher>().SendDueAsync(TestContext.Current.CancellationToken));

        var received = Assert.Single(server.ReceivedEmail);
        var mime = MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(received.Data)));
        Assert.Equal("Hello <there>", mime.Subject);
        Assert.Equal("ada@portal.test", mime.To.Mailboxes.Single().Address);
        Assert.Equal("portal@portal.test", mime.From.Mailboxes.Single().Address);
        Assert.Contains("Hi <b>Ada</b> & co", mime.TextBody);
        Assert.Contains("https://portal.test/x?a=1&b=2", mime.TextBody);
        Assert.Contains("Hi &lt;b&gt;Ada&lt;/b&gt; &amp; co", mime.HtmlBody);
        Assert.Contains("&lt;script&gt;", mime.HtmlBody);
        Assert.DoesNotContain("<script>", mime.HtmlBody);
        Assert.Contains("Acme &lt;Org&gt;", mime.HtmlBody);
        Assert.Contains("https://cdn.test/logo.png", mime.HtmlBody);

        await using var db = await _smtpDb.OpenAsync();
        var row = await db.EmailOutbox.SingleAsync();
        Assert.Equal(EmailStatus.Sent, row.Status);
        Assert.Equal("", row.TextBody);
        Assert.Equal("", row.HtmlBody);
    }

    [Fact]
    public async Task Send_ServerDown_KeepsTheMessage_AndSendsItWhenTheServerReturns()
    {
        await QueueAsync(_smtpDb, Message());
        var dispatcher = _smtpDb.Get<EmailDispatcher>();
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(1, await dispatcher.SendDueAsync(ct)); // claimed, refused: nobody listens
        await using (var db = await _smtpDb.OpenAsync())
        {
            var row = await db.EmailOutbox.AsNoTracking().SingleAsync();
            Assert.Equal(EmailStatus.Pending, row.Status);
            Assert.Equal(1, row.Attempts);
            Assert.NotNull(row.LastError);
            Assert.NotEqual("", row.TextBody);
            Assert.Equal(_smtpDb.Clock.GetUtcNow() + EmailDispatcher.RetrySchedule[0], row.NextAttemptAt);
        }
        Assert.Equal(0, await dispatcher.SendDueAsync(ct)); // not due yet

        using var server = SimpleSmtpServer.Start(_port);
        _smtpDb.Clock.Advance(EmailDispatcher.RetrySchedule[0]);
        Assert.Equal(1, await dispatcher.SendDueAsync(ct));
        Assert.Single(server.ReceivedEmail);
        await using var after = await _smtpDb.OpenAsync();
        var sent = await after.EmailOutbox.SingleAsync();
        Assert.Equal(EmailStatus.Sent, sent.Status);
        Assert.Equal(2, sent.Attempts);
    }

    [Fact]
    public async Task Send_TwoSendersAtOnce_SendEachMessageOnce()
    {
        using var server = SimpleSmtpServer.Start(_port);
        for (var i = 0; i < 10; i++) await QueueAsync(_smtpDb, Message($"user{i}@portal.test"));
        var dispatcher = _smtpDb.Get<EmailDispatcher>();
        var ct = TestContext.Current.CancellationToken;
        var claimed = await Task.WhenAll(dispatcher.SendDueAsync(ct), dispatcher.SendDueAsync(ct));
        Assert.Equal(10, claimed.Sum());
        Assert.Equal(10, server.ReceivedEmail.Length);
        Assert.Equal(10, server.ReceivedEmail.Select(m => m.ToAddresses[0].Address).Distinct().Count());
    }

    [Fact]
    public async Task Send_WithoutSmtpHost_WritesAnEmlFileToThePickupFolder()
    {
        await using var database = await TestDatabase.CreateAsync(SelfServiceSetup.With(pickupDirectory: _pickup));
        await QueueAsync(database, Message());
        Assert.Equal(1, await database.Get<EmailDispatcher>().SendDueAsync(TestContext.Current.CancellationToken));

        var file = Assert.Single(Directory.GetFiles(_pickup, "*.eml"));
        var mime = await MimeMessage.LoadAsync(file, TestContext.Current.CancellationToken);
        Assert.Equal("Hello <there>", mime.Subject);
        Assert.Contains("https://portal.test/x?a=1&b=2", mime.TextBody);
    }

    [Fact]
    public void PickupDirectory_DefaultsToAMailFolderNextToTheSqliteFile()
    {
        var folder = EmailSetup.PickupDirectoryFor(new EmailOptions(), "Data Source=/var/lib/portal/portal.db", Portal.Core.Data.DatabaseProvider.Sqlite);
        Assert.Equal("/var/lib/portal/mail", folder);
        Assert.Equal("/srv/mail", EmailSetup.PickupDirectoryFor(new EmailOptions { PickupDirectory = "/srv/mail" }, "", Portal.Core.Data.DatabaseProvider.PostgreSql));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

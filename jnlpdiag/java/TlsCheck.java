/*
 * jnlpdiag's TLS checker: one HTTPS request made exactly the way the inbound agent makes its first
 * one (HttpsURLConnection to the Jenkins URL, remoting JnlpAgentEndpointResolver), in the agent's
 * own JVM with the agent's own options, so the JVM's trust store, jdk.tls.* properties and
 * java.security decide. Any HTTP answer means TLS worked; an exception is the JVM's verdict.
 *
 * Run as a single source file (Java 11+, JEP 330):
 *   java [agent JVM options] TlsCheck.java URL TIMEOUT_MS [-insecure] [-cert PEMFILE]...
 * -insecure mirrors agent.jar -noCertificateCheck (trust all, no host-name check); -cert mirrors
 * agent.jar -cert (only these certificates are trusted). It prints one line
 *   TLSCHECK {"result":"ok"|"fail", ...}
 * and exits 0 (ok) or 1 (fail). It reads nothing but the URL and writes nothing to disk.
 */

import java.io.FileInputStream;
import java.io.InputStream;
import java.net.Socket;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class TlsCheck {

    /** Records the negotiated protocol and suite of the socket HttpsURLConnection opens. */
    static final class Recording extends SSLSocketFactory {
        final SSLSocketFactory delegate;
        volatile String protocol;
        volatile String suite;

        Recording(SSLSocketFactory delegate) {
            this.delegate = delegate;
        }

        private Socket watch(Socket s) {
            if (s instanceof SSLSocket) {
                ((SSLSocket) s).addHandshakeCompletedListener(e -> {
                    protocol = e.getSession().getProtocol();
                    suite = e.getCipherSuite();
                });
            }
            return s;
        }

        @Override public String[] getDefaultCipherSuites() { return delegate.getDefaultCipherSuites(); }
        @Override public String[] getSupportedCipherSuites() { return delegate.getSupportedCipherSuites(); }
        @Override public Socket createSocket(Socket s, String h, int p, boolean a) throws java.io.IOException {
            return watch(delegate.createSocket(s, h, p, a));
        }
        @Override public Socket createSocket() throws java.io.IOException { return watch(delegate.createSocket()); }
        @Override public Socket createSocket(String h, int p) throws java.io.IOException { return watch(delegate.createSocket(h, p)); }
        @Override public Socket createSocket(String h, int p, java.net.InetAddress l, int lp) throws java.io.IOException {
            return watch(delegate.createSocket(h, p, l, lp));
        }
        @Override public Socket createSocket(java.net.InetAddress h, int p) throws java.io.IOException { return watch(delegate.createSocket(h, p)); }
        @Override public Socket createSocket(java.net.InetAddress h, int p, java.net.InetAddress l, int lp) throws java.io.IOException {
            return watch(delegate.createSocket(h, p, l, lp));
        }
    }

    static String json(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static String jsonList(List<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) b.append(',');
            b.append(json(items.get(i)));
        }
        return b.append(']').toString();
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.out.println("TLSCHECK {\"result\":\"fail\",\"exception\":\"usage\",\"message\":\"TlsCheck URL TIMEOUT_MS [-insecure] [-cert PEM]...\"}");
            System.exit(2);
        }
        StringBuilder out = new StringBuilder("TLSCHECK {");
        out.append("\"java_version\":").append(json(System.getProperty("java.version")));
        out.append(",\"java_home\":").append(json(System.getProperty("java.home")));
        out.append(",\"trust_store\":").append(json(System.getProperty("javax.net.ssl.trustStore")));
        Recording recording = null;
        int code = 1;
        try {
            int timeout = Integer.parseInt(args[1]);
            boolean insecure = false;
            List<String> certFiles = new ArrayList<>();
            for (int i = 2; i < args.length; i++) {
                if (args[i].equals("-insecure")) insecure = true;
                else if (args[i].equals("-cert") && i + 1 < args.length) certFiles.add(args[++i]);
            }
            SSLSocketFactory base;
            if (insecure) {
                // agent.jar -noCertificateCheck: a trust-all manager and no host-name check.
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {new X509TrustManager() {
                    public void checkClientTrusted(X509Certificate[] c, String a) {}
                    public void checkServerTrusted(X509Certificate[] c, String a) {}
                    public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
                }}, new SecureRandom());
                base = ctx.getSocketFactory();
            } else if (!certFiles.isEmpty()) {
                // agent.jar -cert: an empty key store holding only the given certificates.
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                int n = 0;
                for (String f : certFiles) {
                    try (InputStream in = new FileInputStream(f)) {
                        for (java.security.cert.Certificate c : cf.generateCertificates(in)) {
                            ks.setCertificateEntry("cert" + (n++), c);
                        }
                    }
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ks);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                base = ctx.getSocketFactory();
            } else {
                base = HttpsURLConnection.getDefaultSSLSocketFactory();
            }
            recording = new Recording(base);
            HttpsURLConnection c = (HttpsURLConnection) java.net.URI.create(args[0]).toURL().openConnection();
            c.setSSLSocketFactory(recording);
            if (insecure) c.setHostnameVerifier((h, s) -> true);
            c.setConnectTimeout(timeout);
            c.setReadTimeout(timeout);
            c.setInstanceFollowRedirects(false);
            c.setRequestProperty("User-Agent", "jnlpdiag-TlsCheck");
            int status = c.getResponseCode();
            // A front that enforces client certificates at the HTTP layer (nginx 400) names its
            // reason in the page: keep its start, and whether Jenkins (X-Jenkins) answered.
            String body = null;
            if (status >= 400) {
                try (InputStream err = c.getErrorStream()) {
                    if (err != null) {
                        // Java 8: no InputStream.readNBytes; read up to 2 KB by hand.
                        byte[] buf = new byte[2048];
                        int n = 0;
                        for (int r; n < buf.length && (r = err.read(buf, n, buf.length - n)) > 0; ) n += r;
                        body = new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
                    }
                } catch (java.io.IOException e) {
                    body = null;
                }
            }
            String jenkins = c.getHeaderField("X-Jenkins");
            c.disconnect();
            out.append(",\"result\":\"ok\",\"http_status\":").append(status);
            out.append(",\"http_body\":").append(json(body));
            out.append(",\"x_jenkins\":").append(json(jenkins));
            code = 0;
        } catch (Throwable t) {
            List<String> chain = new ArrayList<>();
            for (Throwable x = t; x != null && chain.size() < 8; x = x.getCause()) {
                chain.add(x.getClass().getName() + ": " + x.getMessage());
                if (x.getCause() == x) break;
            }
            out.append(",\"result\":\"fail\",\"exception\":").append(json(t.getClass().getName()));
            out.append(",\"message\":").append(json(t.getMessage()));
            out.append(",\"causes\":").append(jsonList(chain));
        }
        if (recording != null) {
            out.append(",\"protocol\":").append(json(recording.protocol));
            out.append(",\"suite\":").append(json(recording.suite));
        }
        try {
            SSLContext def = SSLContext.getDefault();
            out.append(",\"default_protocols\":").append(jsonList(java.util.Arrays.asList(def.getDefaultSSLParameters().getProtocols())));
        } catch (Throwable t) {
            out.append(",\"default_protocols\":null");
        }
        out.append('}');
        System.out.println(out);
        System.out.flush();
        System.exit(code);
    }
}

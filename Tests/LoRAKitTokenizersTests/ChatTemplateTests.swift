import Foundation
import Testing
@testable import LoRAKitTokenizers

@Suite("Chat templates render exactly like transformers' apply_chat_template")
struct ChatTemplateTests {
    struct Case: CustomTestStringConvertible {
        let template: String
        let source: String
        let context: [String: JinjaValue]
        let messages: [JinjaValue]
        let rendered: String
        var testDescription: String {
            "\(template) \(messages.count) messages gen=\(context["add_generation_prompt"]?.isTruthy == true) tools=\(context["tools"] != nil)"
        }
    }

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: Fixtures.root.appendingPathComponent("chat_templates.json")),
              let root = try? JinjaValue(json: String(decoding: data, as: UTF8.self)),
              case .object(let o) = root, case .object(let templates)? = o["templates"],
              case .array(let cases)? = o["cases"] else { return [] }
        return cases.compactMap { c -> Case? in
            guard case .object(let c) = c, case .string(let name)? = c["template"],
                  case .string(let source)? = templates[name], case .string(let rendered)? = c["rendered"],
                  case .array(let messages)? = c["messages"] else { return nil }
            var context: [String: JinjaValue] = [
                "messages": .array(messages),
                "add_generation_prompt": c["add_generation_prompt"] ?? .bool(false),
                "bos_token": c["bos_token"] ?? .undefined, "eos_token": c["eos_token"] ?? .undefined,
            ]
            if let tools = c["tools"], tools != .none { context["tools"] = tools }
            return Case(template: name, source: source, context: context, messages: messages, rendered: rendered)
        }
    }()

    @Test func fixturesAreLoaded() {
        #expect(Self.cases.count >= 30)
        #expect(Set(Self.cases.map(\.template)) == ["smollm2", "qwen2.5", "llama3.1"])
    }

    @Test(arguments: cases)
    func rendersLikeTransformers(_ c: Case) throws {
        let template = try ChatTemplate(source: c.source)
        #expect(try template.render(context: c.context) == c.rendered)
    }

    @Test func chatMessageAPIMatchesFixture() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        let template = try ChatTemplate(source: try #require(tokenizer.chatTemplateSource))
        let prompt = try template.render(messages: [.user("Hello!")], addGenerationPrompt: true, tokenizer: tokenizer)
        #expect(prompt == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                + "<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n")
        let withSystem = try template.render(messages: [.system("S"), .user("U"), .assistant("A")],
                                             addGenerationPrompt: false, tokenizer: tokenizer)
        #expect(withSystem == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n")
    }

    @Test func syntaxErrorsNameLineAndColumn() {
        let bad: [(String, Int, Int)] = [
            ("hello\n{% if x %}\nno end", 2, 4),
            ("{{ 1 + }}", 1, 8),
            ("a\n  {% for %}", 2, 10),
            ("{{ 'unterminated }}", 1, 4),
            ("{% endfor %}", 1, 4),
            ("{% frobnicate %}", 1, 4),
            ("{{ x | }}", 1, 8),
        ]
        for (source, line, column) in bad {
            do {
                _ = try ChatTemplate(source: source)
                Issue.record("no error for \(source.debugDescription)")
            } catch let e as ChatTemplateError {
                #expect(e.kind == .syntax, "\(source.debugDescription)")
                #expect(e.line == line && e.column == column, "\(source.debugDescription): \(e)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func runtimeErrorsThrowNeverCrash() throws {
        let raising = try ChatTemplate(source: "line1\n  {{ raise_exception('roles must alternate') }}")
        do {
            _ = try raising.render(messages: [], addGenerationPrompt: false)
            Issue.record("raise_exception did not throw")
        } catch let e as ChatTemplateError {
            #expect(e.kind == .raised && e.message == "roles must alternate" && e.line == 2)
        }
        for source in ["{{ messages[0].x.y }}", "{{ 1 + 'a' }}", "{{ x | nosuchfilter }}", "{{ 1 // 0 }}",
                       "{% for i in 3 %}{% endfor %}", "{{ nothing() }}", "{% set ns.a = 1 %}"] {
            let t = try ChatTemplate(source: source)
            #expect(throws: ChatTemplateError.self, "\(source)") { try t.render(messages: [], addGenerationPrompt: false) }
        }
    }

    @Test func jinjaSemantics() throws {
        func render(_ s: String, _ context: [String: JinjaValue] = [:]) throws -> String {
            try ChatTemplate(source: s).render(context: context)
        }
        #expect(try render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}") == "6")
        #expect(try render("{% for x in [1,2,3] %}{{ loop.index }}{{ '-' if not loop.last }}{% endfor %}") == "1-2-3")
        #expect(try render("{{ [1,2,3,4][1:] }} {{ 'abcdef'[::-1] }} {{ [1,2,3][-1] }}") == "[2, 3, 4] fedcba 3")
        #expect(try render("{{ 'a' ~ 1 ~ none }} {{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}") == "a1None 3 3.5 2 1024")
        #expect(try render("{{ {'b': 1, 'a': [true, none, 'x']} | tojson }}") == #"{"b": 1, "a": [true, null, "x"]}"#)
        #expect(try render("{{ x is defined }} {{ x is not defined }} {{ none is none }} {{ 'ab' in 'cabd' }}") ==
                "False True True True")
        #expect(try render("{% if false %}a{% elif 1 > 2 %}b{% else %}c{% endif %}") == "c")
        #expect(try render("{{ '  hi  ' | trim }}|{{ [1, 2] | length }}|{{ ['a','b'] | join(', ') }}") == "hi|2|a, b")
        #expect(try render("{{ 'Hello'.upper() }} {{ ' x '.strip() }} {{ 'a,b'.split(',') }}") == "HELLO x ['a', 'b']")
        #expect(try render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                           ["d": .object(JinjaObject([("x", .int(1)), ("y", .int(2))]))]) == "x=1;y=2;")
        #expect(try render("{% macro greet(name, p='!') %}Hi {{ name }}{{ p }}{% endmacro %}{{ greet('Bob') }}") == "Hi Bob!")
        #expect(try render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "012")
        #expect(try render("  {%- if true -%}  x  {%- endif -%}  ") == "x")
        #expect(try render("a\n  {% if true %}\nb\n  {% endif %}\nc") == "a\nb\nc")
        #expect(try render("{{ 1 if false }}|{{ 'y' if true else 'n' }}") == "|y")
        #expect(try render("{{ x | default('d') }} {{ [3,1] | first }} {{ 'abc' | length }}") == "d 3 3")
    }
}

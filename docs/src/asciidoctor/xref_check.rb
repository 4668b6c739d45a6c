# Asciidoctor checks neither the page nor the anchor of an xref to another page, and reports an unknown anchor on the
# same page at INFO only: this converter warns on both, so a build that fails on warnings fails on a broken xref.
require 'asciidoctor'

class XrefCheckingHtml5Converter < (Asciidoctor::Converter.for 'html5')
  register_for 'html5'

  def convert_inline_anchor node
    check_xref node if node.type == :xref
    super
  end

  private

  def check_xref node
    doc = node.document
    path, fragment = (node.attr 'path'), (node.attr 'fragment')
    if path
      page = page_source doc, path
      if !(File.file? page)
        broken doc, %(page not found: #{path} (looked for #{page}))
      elsif fragment && !((ids_of page, doc).include? fragment)
        broken doc, %(anchor not found: #{path}##{fragment})
      end
    elsif fragment && !doc.catalog[:refs][fragment] && !doc.catalog[:refs][node.attr 'refid']
      broken doc, %(anchor not found on this page: ##{fragment})
    end
  end

  # Pages are named from the pages folder, as Antora does, whichever folder the page that links is in.
  def page_source doc, path
    root = (doc.attr 'xref-check-pages-dir') || (doc.attr 'docdir')
    File.join root, %(#{path.delete_suffix doc.outfilesuffix}.adoc)
  end

  def ids_of page, doc
    (@ids ||= {})[page] ||= begin
      # parsed quietly: the page reports its own mistakes when it is converted
      logger, Asciidoctor::LoggerManager.logger = Asciidoctor::LoggerManager.logger, Asciidoctor::NullLogger.new
      attributes = %w(idprefix idseparator).to_h {|name| [name, (doc.attr name)] }
      (Asciidoctor.load_file page, safe: :unsafe, attributes: attributes).catalog[:refs].keys
    ensure
      Asciidoctor::LoggerManager.logger = logger
    end
  end

  def broken doc, message
    Asciidoctor::LoggerManager.logger.warn %(#{doc.attr 'docfile'}: broken xref, #{message})
  end
end
